// The postMessage protocol between the loader (host page) and the iframe app.
//
// Every message is wrapped in one namespaced envelope, {rejoinder: {...}}, so
// other scripts' messages on the same window are never mistaken for ours. The
// receiver checks origin and source first (see embed.ts / frame/host.ts), then
// the shape here: a message that fails either check is dropped silently.

/** iframe -> host: the rendered height of the app, in CSS pixels. */
export interface HeightMessage {
  type: "height";
  height: number;
}

/** iframe -> host: scroll the host page so this y (iframe coordinates) shows. */
export interface ScrollMessage {
  type: "scroll";
  top: number;
}

/**
 * iframe -> host: keep this entry in the host page's storage (null removes it).
 * Used only when the browser denies the iframe its own storage (third-party
 * storage blocked), so a draft still survives a reload.
 */
export interface StoreMessage {
  type: "store";
  key: string;
  value: string | null;
}

/** iframe -> host: send back what was kept with "store". */
export interface RecallMessage {
  type: "recall";
}

/** host -> iframe: the slice of the iframe the reader can see, iframe coordinates. */
export interface ViewportMessage {
  type: "viewport";
  top: number;
  height: number;
}

/** host -> iframe: the entries kept for us, answering "recall". */
export interface RecalledMessage {
  type: "recalled";
  entries: Record<string, string>;
}

/**
 * host -> iframe: the colour the comments sit on in the host page ("rgb(r, g, b)"), or "" when
 * it cannot be told (an image, a gradient, a see-through colour). Sent again when it changes:
 * the blog switched to its dark style, with the system or with a toggle of its own.
 */
export interface BackdropMessage {
  type: "backdrop";
  color: string;
}

/** host -> iframe: the site's script chose another theme (Rejoinder.render(...).setTheme). */
export interface ThemeMessage {
  type: "theme";
  theme: "light" | "dark" | "auto";
}

/** Whether an "rgb(r, g, b)" colour is dark: white text reads better on it than black (WCAG luminance). */
export function isDark(color: string): boolean {
  const [r, g, b] = (color.match(/\d+/g) || []).map((c) => {
    const v = Number(c) / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.179;
}

export type FrameToHost = HeightMessage | ScrollMessage | StoreMessage | RecallMessage;
export type HostToFrame = ViewportMessage | RecalledMessage | BackdropMessage | ThemeMessage;

/** An opaque colour as the loader writes it, or "" (unknown). */
export const BACKDROP = /^(rgb\((?:25[0-5]|2[0-4]\d|1?\d?\d)(?:, (?:25[0-5]|2[0-4]\d|1?\d?\d)){2}\))?$/;

// Heights and offsets beyond this are nonsense (twenty times a 10,000-comment thread,
// which is about a million pixels tall): refuse them rather than let a bug stretch the
// host page without bound. Chrome lays out at most ~33 million.
const MAX_PX = 20_000_000;

// Storage relayed through the host: our own "rj:" keys, bounded values, so
// even a confused iframe cannot fill the host page's storage.
export const STORE_KEY = /^rj:[a-z]{1,16}(:[A-Za-z0-9_-]{1,64})?$/;
export const STORE_MAX_VALUE = 32 * 1024;
export const STORE_MAX_ENTRIES = 200;

const isStoreValue = (v: unknown): v is string => typeof v === "string" && v.length <= STORE_MAX_VALUE;

const isPx = (v: unknown, min: number): v is number =>
  typeof v === "number" && Number.isFinite(v) && v >= min && v <= MAX_PX;

function body(data: unknown): Record<string, unknown> | null {
  if (typeof data !== "object" || data === null) return null;
  const inner = (data as { rejoinder?: unknown }).rejoinder;
  return typeof inner === "object" && inner !== null ? (inner as Record<string, unknown>) : null;
}

export function wrap(message: FrameToHost | HostToFrame): { rejoinder: FrameToHost | HostToFrame } {
  return { rejoinder: message };
}

/** The envelope's content if it is a well-formed message for the host, else null. */
export function parseFrameToHost(data: unknown): FrameToHost | null {
  const m = body(data);
  if (!m) return null;
  if (m.type === "height" && isPx(m.height, 0)) return { type: "height", height: m.height };
  if (m.type === "scroll" && isPx(m.top, 0)) return { type: "scroll", top: m.top };
  if (m.type === "recall") return { type: "recall" };
  if (m.type === "store" && typeof m.key === "string" && STORE_KEY.test(m.key)
    && (m.value === null || isStoreValue(m.value))) {
    return { type: "store", key: m.key, value: m.value };
  }
  return null;
}

/** The envelope's content if it is a well-formed message for the iframe, else null. */
export function parseHostToFrame(data: unknown): HostToFrame | null {
  const m = body(data);
  if (!m) return null;
  if (m.type === "viewport" && isPx(m.top, -MAX_PX) && isPx(m.height, 0)) {
    return { type: "viewport", top: m.top, height: m.height };
  }
  if (m.type === "backdrop" && typeof m.color === "string" && BACKDROP.test(m.color)) {
    return { type: "backdrop", color: m.color };
  }
  if (m.type === "theme" && (m.theme === "light" || m.theme === "dark" || m.theme === "auto")) {
    return { type: "theme", theme: m.theme };
  }
  if (m.type === "recalled" && typeof m.entries === "object" && m.entries !== null) {
    const entries: Record<string, string> = {};
    const all = Object.entries(m.entries as Record<string, unknown>).slice(0, STORE_MAX_ENTRIES);
    for (const [key, value] of all) if (STORE_KEY.test(key) && isStoreValue(value)) entries[key] = value;
    return { type: "recalled", entries };
  }
  return null;
}
