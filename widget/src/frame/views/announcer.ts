// A polite ARIA live region: screen readers hear arrivals and confirmations
// without losing their place.

import { h } from "../dom";

export class Announcer {
  readonly el = h("div", { class: "rj-sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  private timer = 0;

  say(message: string): void {
    // Clear first, then set on a later tick: the same sentence twice is still announced.
    this.el.textContent = "";
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => { this.el.textContent = message; }, 100);
  }
}
