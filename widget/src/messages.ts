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

/** host -> iframe: the slice of the iframe the reader can see, iframe coordinates. */
export interface ViewportMessage {
  type: "viewport";
  top: number;
  height: number;
}

export type FrameToHost = HeightMessage | ScrollMessage;
export type HostToFrame = ViewportMessage;

// Heights and offsets beyond this are nonsense (a 1 km tall page): refuse them
// rather than let a bug stretch the host page without bound.
const MAX_PX = 1_000_000;

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
  return null;
}

/** The envelope's content if it is a well-formed message for the iframe, else null. */
export function parseHostToFrame(data: unknown): HostToFrame | null {
  const m = body(data);
  if (!m) return null;
  if (m.type === "viewport" && isPx(m.top, -MAX_PX) && isPx(m.height, 0)) {
    return { type: "viewport", top: m.top, height: m.height };
  }
  return null;
}
