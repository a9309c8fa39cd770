// A tiny element builder. Children that are strings become text nodes, so
// user text cannot turn into markup on this path (see html.ts for the one
// path that inserts markup).

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  // Plain loops and appendChild: a thread's first page calls this some 3,000
  // times in a renderer that has run no code yet, where Object.entries and
  // append(...spread) took twice as long (bench/RESULTS.md, Widget).
  const el = document.createElement(tag);
  for (const name in attrs) {
    const value = attrs[name];
    if (value === null || value === undefined || value === false) continue;
    // Attributes, never properties or "on*" handlers: listeners are added with on().
    if (name.startsWith("on")) throw new Error("use on() for " + name);
    el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

export function on<K extends keyof HTMLElementEventMap>(
  el: EventTarget,
  type: K,
  listener: (event: HTMLElementEventMap[K]) => void,
): void {
  el.addEventListener(type, listener as EventListener);
}

/** Replace an element's content with text. */
export function text(el: Element, value: string): void {
  el.textContent = value;
}

let counter = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix: string): string {
  counter += 1;
  return `rj-${prefix}-${counter}`;
}
