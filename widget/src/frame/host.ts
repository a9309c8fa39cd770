// The iframe's side of the conversation with the host page: report our height,
// learn which slice of us the reader can see, ask the page to scroll.

import { parseHostToFrame, wrap, type FrameToHost } from "../messages";
import { setBackdrop, setTheme } from "./theme";

export interface Visible {
  top: number;
  bottom: number;
}

// How long to wait for the loader to hand back kept entries. It answers at
// once; the wait only runs out with an old or missing loader.
const RECALL_TIMEOUT_MS = 1000;

export class Host {
  private view: Visible | null = null;
  private recalled: ((entries: Record<string, string>) => void) | null = null;
  private listeners: (() => void)[] = [];
  private lastHeight = -1;
  private started = false;
  readonly embedded: boolean;

  constructor(private readonly origin: string) {
    this.embedded = window.parent !== window && !!origin;
    addEventListener("message", (event: MessageEvent) => {
      // Only the page that embeds us, on the origin it told us, may describe the viewport.
      if (!this.embedded || event.source !== window.parent || event.origin !== this.origin) return;
      const msg = parseHostToFrame(event.data);
      if (!msg) return;
      if (msg.type === "recalled") {
        this.recalled?.(msg.entries);
        return;
      }
      if (msg.type === "backdrop") {
        setBackdrop(msg.color);
        return;
      }
      if (msg.type === "theme") {
        setTheme(msg.theme);
        return;
      }
      this.view = { top: msg.top, bottom: msg.top + msg.height };
      this.listeners.forEach((f) => f());
    });
    if (!this.embedded) addEventListener("scroll", () => this.listeners.forEach((f) => f()), { passive: true });
  }

  private send(message: FrameToHost): void {
    if (this.embedded) window.parent.postMessage(wrap(message), this.origin);
  }

  /** What the host page kept for us (see StoreMessage); empty if it does not answer. */
  recall(): Promise<Record<string, string>> {
    return new Promise((resolve) => {
      const timer = window.setTimeout(() => resolve({}), RECALL_TIMEOUT_MS);
      this.recalled = (entries) => {
        clearTimeout(timer);
        this.recalled = null;
        resolve(entries);
      };
      this.send({ type: "recall" });
    });
  }

  store(key: string, value: string | null): void {
    this.send({ type: "store", key, value });
  }

  /** Start reporting height: called once the thread is rendered, which also reveals the iframe. */
  startSizing(): void {
    if (this.started) return;
    this.started = true;
    new ResizeObserver(() => this.reportHeight()).observe(document.body);
    this.reportHeight();
  }

  /** Tell the host page our height now, if it changed. */
  reportHeight(): void {
    if (!this.started) return;
    // body, not documentElement: the root is at least as tall as the iframe,
    // so measuring it could only ever grow.
    const height = Math.ceil(document.body.getBoundingClientRect().height);
    if (height !== this.lastHeight) {
      this.lastHeight = height;
      this.send({ type: "height", height });
    }
  }

  /** The part of the document the reader sees, or null when we cannot know yet. */
  visible(): Visible | null {
    if (!this.embedded) return { top: scrollY, bottom: scrollY + innerHeight };
    return this.view;
  }

  onViewChange(f: () => void): void {
    this.listeners.push(f);
  }

  /** Bring document position `top` into the reader's view. */
  scrollTo(top: number): void {
    if (this.embedded) this.send({ type: "scroll", top: Math.max(0, top) });
    else scrollTo({ top: Math.max(0, top - 16) });
  }
}
