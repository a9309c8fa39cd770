// count.js: fills every element marked data-rejoinder-count="<page id or URL>"
// with that page's comment count, for all of them in one request.
//
//   <script src="https://comments.example/count.js" data-site="ID" async></script>
//   <a href="/post/" data-rejoinder-count="https://blog.example/post/">Comments</a>
//
// The text follows the element's data-rejoinder-zero / -one / -other
// templates ("{n}" is the number), else English defaults.

const DEFAULTS: Record<string, string> = { zero: "No comments yet", one: "1 comment", other: "{n} comments" };
// The server answers at most this many pages per request (api/threads.py).
const MAX_PAGES = 100;

function fill(el: HTMLElement, n: number): void {
  const form = n === 0 ? "zero" : n === 1 ? "one" : "other";
  const template = el.getAttribute("data-rejoinder-" + form) || DEFAULTS[form];
  // textContent: a count or a template, never markup.
  el.textContent = template.replace("{n}", n.toLocaleString());
}

function run(script: HTMLScriptElement): void {
  const site = script.getAttribute("data-site");
  if (!site) return;
  const server = new URL(script.src).origin;
  const marked = Array.from(document.querySelectorAll<HTMLElement>("[data-rejoinder-count]"));
  const pages = Array.from(new Set(marked.map((el) => el.getAttribute("data-rejoinder-count") || ""))).filter(Boolean);
  for (let i = 0; i < pages.length; i += MAX_PAGES) {
    const query = new URLSearchParams({ site });
    for (const page of pages.slice(i, i + MAX_PAGES)) query.append("page", page);
    // A GET with no custom header is a "simple" CORS request: no preflight.
    fetch(server + "/api/counts?" + query.toString(), { credentials: "omit" })
      .then((r) => (r.ok ? r.json() : null))
      .then((body: { counts?: Record<string, unknown> } | null) => {
        const counts = body?.counts || {};
        for (const el of marked) {
          const n = counts[el.getAttribute("data-rejoinder-count") || ""];
          if (typeof n === "number") fill(el, n);
        }
      })
      .catch(() => undefined); // counts are decoration: a failure leaves the page as written
  }
}

const script = (document.currentScript as HTMLScriptElement | null)
  || document.querySelector<HTMLScriptElement>('script[src*="/count.js"][data-site]');
if (script) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => run(script), { once: true });
  else run(script);
}
