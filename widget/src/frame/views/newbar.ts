// The "N new comments" button: shown instead of moving the page when comments
// land where the reader is not looking. It floats at the top of the part of
// the iframe the reader can see (the host page tells us which part that is).

import { h, on } from "../dom";
import type { Host } from "../host";
import type { I18n } from "../i18n";

const GAP_PX = 12;

export class NewBar {
  readonly el: HTMLButtonElement;
  private count = 0;

  constructor(private readonly i18n: I18n, private readonly host: Host, onClick: () => void) {
    this.el = h("button", { type: "button", class: "rj-newbar", hidden: true });
    on(this.el, "click", onClick);
    host.onViewChange(() => this.place());
  }

  show(count: number): void {
    this.count = count;
    this.el.hidden = count === 0;
    if (count) {
      this.el.textContent = this.i18n.t("newComments", { n: count });
      this.place();
    }
  }

  get shown(): number {
    return this.count;
  }

  private place(): void {
    if (this.el.hidden) return;
    const view = this.host.visible();
    const max = document.body.getBoundingClientRect().height - this.el.offsetHeight - GAP_PX;
    const top = Math.max(GAP_PX, Math.min((view?.top ?? 0) + GAP_PX, max));
    // CSSOM, not a style attribute: allowed by the frame's CSP (style-src 'self').
    this.el.style.top = `${Math.round(top)}px`;
  }
}
