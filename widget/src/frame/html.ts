// THE ONE PATH BY WHICH MARKUP ENTERS THE DOM. Audit this file, not the app.
//
// Only comment bodies come through here, and only as the server sent them:
// server/rejoinder/render.py turns Markdown into HTML and sanitises it with
// nh3 (an allow-list: no script, no event handlers, no style, http(s)/mailto
// links only). We parse it in an inert <template> (nothing in it runs or
// loads while parsed), then re-check as a second line of defence: any
// element or attribute outside a small allow-list is dropped, and links are
// forced to open in a new tab without access to this window.

const ELEMENTS = new Set([
  "P", "BR", "STRONG", "B", "EM", "I", "DEL", "S", "CODE", "PRE", "BLOCKQUOTE", "UL", "OL", "LI",
  "A", "H1", "H2", "H3", "H4", "H5", "H6", "HR",
]);
const ATTRIBUTES: Record<string, Set<string>> = {
  // target and rel are overwritten below, whatever the server sent.
  A: new Set(["href", "title", "target", "rel"]),
  OL: new Set(["start"]),
};
const SAFE_URL = /^(https?:|mailto:)/i;

// Walks the siblings in place, without copying them into arrays: it runs over
// every comment body of a thread on first load.
function clean(node: Node): void {
  let child = node.firstChild;
  while (child) {
    const next = child.nextSibling;
    if (child.nodeType === Node.ELEMENT_NODE) {
      const el = child as Element;
      if (!ELEMENTS.has(el.tagName)) {
        // Unknown element: keep its text, drop the element itself.
        el.replaceWith(document.createTextNode(el.textContent || ""));
      } else {
        const allowed = ATTRIBUTES[el.tagName];
        for (let i = el.attributes.length - 1; i >= 0; i--) {
          const name = el.attributes[i].name;
          if (!allowed || !allowed.has(name)) el.removeAttribute(name);
        }
        if (el.tagName === "A") {
          const href = el.getAttribute("href") || "";
          if (!SAFE_URL.test(href.trim())) el.removeAttribute("href");
          el.setAttribute("target", "_blank");
          el.setAttribute("rel", "nofollow ugc noopener noreferrer");
        }
        clean(el);
      }
    } else if (child.nodeType !== Node.TEXT_NODE) {
      child.remove(); // comments, processing instructions
    }
    child = next;
  }
}

// Bodies parsed ahead by parseAhead(), waiting for setCommentHtml() to take them.
const ahead = new Map<string, DocumentFragment[]>();

/** Parse many bodies at once, for the setCommentHtml() calls about to come: one
 * parser run instead of one per comment (a 200-comment first page). Each body
 * is parsed inside its own <template>, which, like a separate parse, keeps its
 * markup from reaching into the next one (a template starts afresh: open
 * formatting elements do not carry over). */
export function parseAhead(serverHtml: string[]): void {
  const template = document.createElement("template");
  template.innerHTML = serverHtml.map((html) => "<template>" + html + "</template>").join("");
  const parsed = Array.from(template.content.childNodes) as HTMLTemplateElement[];
  // Each body is balanced markup (the server's sanitiser writes it out from a
  // tree); if one were not, give up on the batch rather than guess.
  if (parsed.length !== serverHtml.length || parsed.some((el) => el.nodeName !== "TEMPLATE")) return;
  parsed.forEach((el, i) => {
    const list = ahead.get(serverHtml[i]);
    if (list) list.push(el.content);
    else ahead.set(serverHtml[i], [el.content]);
  });
}

/** Put the server-sanitised HTML of a comment into `target`. */
export function setCommentHtml(target: Element, serverHtml: string): void {
  let content = ahead.get(serverHtml)?.pop();
  if (!content) {
    const template = document.createElement("template");
    template.innerHTML = serverHtml; // inert: a template's content is not rendered or run
    content = template.content;
  }
  clean(content);
  target.replaceChildren(content);
}

/** Forget bodies parsed ahead and not used. */
export function dropAhead(): void {
  ahead.clear();
}
