// embed.js: the loader. Reads its own script tag, inserts the comments iframe
// when the reader scrolls near, and sizes it from the iframe's height messages.
//
//   <script src="https://comments.example/embed.js" data-site="ID" async></script>
//   <div id="rejoinder"></div>   (optional: created after the script if missing)
//
// Optional data attributes, on the script tag or the placeholder div:
// data-page (page id), data-title, data-theme (light|dark|auto), data-lang,
// data-lazy="false" (load at once), data-sso (the blog's signed member),
// data-render="manual" (on the script: the site calls the API below itself),
// data-mastodon / data-bluesky (the post there: its replies show in the thread).
//
// Single-page sites: Rejoinder.render(element, {page, title, theme, ...}) returns
// {setPage(id, title), setTheme(theme), destroy()}.

import { isDark, parseFrameToHost, wrap, type HostToFrame, STORE_MAX_ENTRIES } from "./messages";

// Space held for the comments before the iframe reports its real height, so
// the text after them does not jump up and down while they load. About the
// height of an empty thread: header, reply form and a little air.
const RESERVE_PX = 420;
// Start loading this far before the comments scroll into view, so that by the
// time the reader arrives they are rendered and sized: no visible shift.
const LAZY_MARGIN = "1200px 0px";
// Host-page CSS custom properties a site may set on the placeholder to restyle
// the widget (the iframe's own CSS cannot see the host's stylesheets).
const STYLE_VARS = ["accent", "text", "muted", "bg", "surface", "border", "radius", "font"];
// If the iframe loaded but never reported a height by then, something is wrong
// (site not registered, this origin not allowed): give the space back.
const GIVE_UP_MS = 10_000;
// Prefix of what the iframe keeps in this page's storage when the browser
// denies it its own (see StoreMessage in messages.ts).
const KEEP = "rejoinder:";

function hostStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function recall(): Record<string, string> {
  const entries: Record<string, string> = {};
  const store = hostStorage();
  try {
    for (let i = 0; store && i < store.length && Object.keys(entries).length < STORE_MAX_ENTRIES; i++) {
      const key = store.key(i);
      if (key && key.startsWith(KEEP)) entries[key.slice(KEEP.length)] = store.getItem(key) || "";
    }
  } catch {
    // storage blocked here too: the iframe starts empty, as it would anyway
  }
  return entries;
}

function ownScript(): HTMLScriptElement | null {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  return document.querySelector<HTMLScriptElement>('script[src*="/embed.js"][data-site]');
}

/** The page's identity: explicit id, else the canonical link, else the URL without query and fragment. */
function pageUrl(): string {
  const canonical = document.querySelector<HTMLLinkElement>('link[rel="canonical"]');
  if (canonical && /^https?:/.test(canonical.href)) return canonical.href;
  return location.origin + location.pathname;
}

// A computed background colour: rgb()/rgba() with numbers, which is how browsers report sRGB colours.
const COMPUTED_RGB = /^rgba?\((\d+(?:\.\d+)?), (\d+(?:\.\d+)?), (\d+(?:\.\d+)?)(?:, ([\d.]+))?\)$/;
// Chromium's canvas when a page asks for a dark scheme and paints nothing itself.
const DARK_CANVAS = "rgb(18, 18, 18)";

/**
 * The colour the comments sit on: the first background painted at or above the placeholder,
 * else the browser's canvas. "" when that cannot be told: an image, a gradient, a see-through
 * or a non-sRGB colour. The frame matches it (frame/theme.ts): same colour, and for
 * data-theme="auto", a dark or light style after it, whatever the reader's system prefers.
 */
function backdrop(box: HTMLElement): string {
  for (let el: Element | null = box; el; el = el.parentElement) {
    const style = getComputedStyle(el);
    const m = COMPUTED_RGB.exec(style.backgroundColor);
    if (style.backgroundImage !== "none" || !m) return "";
    const alpha = m[4] === undefined ? 1 : Number(m[4]);
    if (alpha >= 0.99) return `rgb(${Math.round(+m[1])}, ${Math.round(+m[2])}, ${Math.round(+m[3])})`;
    if (alpha > 0) return "";
  }
  const scheme = getComputedStyle(document.documentElement).colorScheme;
  const dark = /\bdark\b/.test(scheme) && (!/\blight\b/.test(scheme) || matchMedia("(prefers-color-scheme: dark)").matches);
  return dark ? DARK_CANVAS : "rgb(255, 255, 255)";
}

/** What a page may pass to Rejoinder.render (the same as the data attributes). */
export interface Options {
  site?: string;
  page?: string;
  title?: string;
  url?: string;
  theme?: string;
  lang?: string;
  sso?: string;
  lazy?: boolean;
  /** The post on Mastodon (a status URL) and on Bluesky (its URL or at:// URI): their replies show too. */
  mastodon?: string;
  bluesky?: string;
}

/** One comments section on the page: Rejoinder.render's answer. */
export interface Instance {
  /** Show another page's thread (a single-page site moved to another post). */
  setPage(page: string, title?: string, url?: string): void;
  setTheme(theme: "light" | "dark" | "auto"): void;
  /** Take the comments away: the frame, its socket and every listener this section added. */
  destroy(): void;
}

const shown = new WeakMap<HTMLElement, Instance>();

function render(server: string, box: HTMLElement, o: Options): Instance | null {
  shown.get(box)?.destroy();
  const site = o.site || "";
  if (!site) return null;
  const offs: (() => void)[] = [];
  // Every listener goes through here, so destroy() takes each one away again.
  const listen = (target: EventTarget, type: string, fn: (e: never) => void, opts?: AddEventListenerOptions): void => {
    target.addEventListener(type, fn as EventListener, opts);
    offs.push(() => target.removeEventListener(type, fn as EventListener, opts));
  };

  const url = o.url || pageUrl();
  const params = new URLSearchParams({
    site,
    page: o.page || url,
    url,
    title: (o.title || document.title).slice(0, 300),
    theme: o.theme || "auto",
    origin: location.origin,
    backdrop: backdrop(box),
  });
  if (o.mastodon) params.set("mastodon", o.mastodon);
  if (o.bluesky) params.set("bluesky", o.bluesky);
  const lang = o.lang || document.documentElement.lang;
  if (lang) params.set("lang", lang);
  const computed = getComputedStyle(box);
  for (const name of STYLE_VARS) {
    const value = computed.getPropertyValue("--rejoinder-" + name).trim();
    if (value) params.set("s-" + name, value.slice(0, 200));
  }
  if (!params.has("s-font")) params.set("s-font", computed.fontFamily.slice(0, 200));

  box.style.minHeight = RESERVE_PX + "px";
  const frame = document.createElement("iframe");
  frame.title = "Comments";
  // No top navigation from inside the iframe; popups (login, links in
  // comments) open unsandboxed so the pages they show work normally.
  frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox");
  frame.setAttribute("scrolling", "no");
  const s = frame.style;
  s.border = "0";
  s.width = "100%";
  s.display = "block";
  // The same colour scheme as the frame's document: where they differ, browsers paint the frame an
  // opaque backdrop of their own colour. The frame resolves "auto" by the backdrop when it is known.
  let theme = params.get("theme");
  let seen = params.get("backdrop") || "";
  const scheme = (): string =>
    theme === "dark" || theme === "light" ? theme : seen ? (isDark(seen) ? "dark" : "light") : "light dark";
  s.colorScheme = scheme();
  s.height = RESERVE_PX + "px";
  s.visibility = "hidden"; // until the thread is rendered (no flash of an empty frame)

  let revealed = false;
  let queued = false;
  let giveUp = 0;
  const send = (message: HostToFrame): void => frame.contentWindow?.postMessage(wrap(message), server);
  const sendViewport = (): void => {
    queued = false;
    send({ type: "viewport", top: -frame.getBoundingClientRect().top, height: innerHeight });
  };
  const onViewChange = (): void => {
    if (revealed && !queued) {
      queued = true;
      requestAnimationFrame(sendViewport);
    }
  };

  listen(window, "message", (event: MessageEvent) => {
    // Only our iframe, served from our server, may size or scroll the page.
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    const msg = parseFrameToHost(event.data);
    if (!msg) return;
    if (msg.type === "height") {
      s.height = Math.ceil(msg.height) + "px";
      if (!revealed) {
        revealed = true;
        s.visibility = "";
        box.style.minHeight = "";
      }
      onViewChange();
    } else if (msg.type === "recall") {
      send({ type: "recalled", entries: recall() });
    } else if (msg.type === "store") {
      try {
        if (msg.value === null) hostStorage()?.removeItem(KEEP + msg.key);
        else hostStorage()?.setItem(KEEP + msg.key, msg.value);
      } catch {
        // full or blocked: the iframe still has it in memory for this visit
      }
    } else {
      const top = frame.getBoundingClientRect().top + scrollY + Math.min(msg.top, frame.offsetHeight) - 16;
      const smooth = !matchMedia("(prefers-reduced-motion: reduce)").matches;
      scrollTo({ top, behavior: smooth ? "smooth" : "auto" });
    }
  });
  listen(window, "scroll", onViewChange, { passive: true });
  listen(window, "resize", onViewChange, { passive: true });

  // The blog may change colour while it is read: with the system's dark mode, or a theme toggle
  // (a class or attribute on <html> or <body>). Look again then, and after its transition.
  const recheck = (): void => {
    const now = backdrop(box);
    if (now === seen) return;
    seen = now;
    s.colorScheme = scheme();
    send({ type: "backdrop", color: now });
  };
  const soon = (): void => {
    for (const ms of [0, 300, 1000]) setTimeout(recheck, ms);
  };
  listen(matchMedia("(prefers-color-scheme: dark)"), "change", soon);
  const watch = new MutationObserver(soon);
  for (const el of [document.documentElement, document.body]) if (el) watch.observe(el, { attributes: true });

  listen(frame, "load", () => {
    clearTimeout(giveUp);
    giveUp = window.setTimeout(() => {
      if (revealed) return;
      box.style.minHeight = "";
      s.height = "0";
      console.warn(`Rejoinder: the comments did not load. Is ${location.origin} registered for site "${site}"?`);
    }, GIVE_UP_MS);
  });

  const load = (): void => {
    // A member's sign-in signed by the blog (data-sso) goes in the fragment: never sent to a server or a log.
    frame.src = server + "/frame?" + params.toString() + (o.sso ? "#sso=" + encodeURIComponent(o.sso) : "");
    if (!frame.isConnected) box.append(frame);
  };
  let io: IntersectionObserver | null = null;
  if (o.lazy === false || !("IntersectionObserver" in window)) {
    load();
  } else {
    io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        io?.disconnect();
        load();
      }
    }, { rootMargin: LAZY_MARGIN });
    io.observe(box);
  }

  const instance: Instance = {
    setPage(page, title, pageUrlNow) {
      params.set("page", page);
      params.set("url", pageUrlNow || pageUrl());
      params.set("title", (title || document.title).slice(0, 300));
      revealed = false;
      s.visibility = "hidden";
      if (frame.isConnected) load(); // else the observer loads it, with these
    },
    setTheme(t) {
      theme = t;
      params.set("theme", t);
      s.colorScheme = scheme();
      send({ type: "theme", theme: t });
    },
    destroy() {
      offs.forEach((off) => off());
      io?.disconnect();
      watch.disconnect();
      clearTimeout(giveUp);
      frame.remove(); // its document, socket and timers go with it
      box.style.minHeight = "";
      shown.delete(box);
    },
  };
  shown.set(box, instance);
  return instance;
}

const server = (() => {
  const own = ownScript();
  try {
    return own ? new URL(own.src).origin : "";
  } catch {
    return "";
  }
})();
const script = ownScript();
const defaults = (name: string): string => script?.getAttribute("data-" + name) || "";

/** The page's script API: Rejoinder.render(element, options) for single-page sites. */
(window as unknown as { Rejoinder: unknown }).Rejoinder = {
  render: (element: HTMLElement, options: Options = {}): Instance | null =>
    render(server, element, { site: defaults("site"), ...options }),
};

function start(own: HTMLScriptElement): void {
  if (own.getAttribute("data-render") === "manual") return; // the site calls Rejoinder.render itself
  let box = document.getElementById("rejoinder");
  if (!box) {
    box = document.createElement("div");
    box.id = "rejoinder";
    own.after(box);
  }
  if (box.dataset.rejoinderLoaded) return; // the script was included twice
  box.dataset.rejoinderLoaded = "1";
  const attr = (name: string): string => own.getAttribute("data-" + name) || box!.getAttribute("data-" + name) || "";
  render(server, box, {
    site: attr("site"), page: attr("page") || undefined, title: attr("title") || undefined,
    theme: attr("theme") || undefined, lang: attr("lang") || undefined, sso: attr("sso") || undefined,
    lazy: attr("lazy") !== "false", mastodon: attr("mastodon") || undefined, bluesky: attr("bluesky") || undefined,
  });
}

if (script) {
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => start(script), { once: true });
  } else {
    start(script);
  }
}
