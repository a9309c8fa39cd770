// The inline editor for the reader's own comment: its text in a textarea in
// place of the body, Save / Cancel, and the server's message if it refuses.

import { h, on, uid } from "../dom";
import type { I18n } from "../i18n";

export interface EditorHooks {
  save(text: string): void;
  cancel(): void;
}

export class Editor {
  readonly el: HTMLFormElement;
  private readonly text: HTMLTextAreaElement;
  private readonly error: HTMLElement;
  private readonly saveButton: HTMLButtonElement;

  constructor(i18n: I18n, initial: string, hooks: EditorHooks) {
    const id = uid("edit");
    this.text = h("textarea", { id, rows: 4, required: true });
    this.text.value = initial;
    this.error = h("span", { class: "rj-error", id: uid("err"), hidden: true });
    this.saveButton = h("button", { type: "submit", class: "rj-button rj-primary" }, i18n.t("save"));
    const cancel = h("button", { type: "button", class: "rj-button rj-quiet" }, i18n.t("cancel"));
    this.el = h("form", { class: "rj-editor", novalidate: true },
      h("label", { for: id, class: "rj-sr" }, i18n.t("edit")),
      this.text, this.error,
      h("div", { class: "rj-formactions" }, cancel, this.saveButton));
    on(this.el, "submit", (e) => {
      e.preventDefault();
      hooks.save(this.text.value);
    });
    on(this.text, "keydown", (e) => {
      if (e.key === "Escape") hooks.cancel();
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.el.requestSubmit();
      }
    });
    on(cancel, "click", () => hooks.cancel());
  }

  focus(): void {
    this.text.focus({ preventScroll: true });
  }

  busy(on: boolean): void {
    this.saveButton.disabled = on;
  }

  showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
    this.text.setAttribute("aria-invalid", "true");
    this.text.setAttribute("aria-describedby", this.error.id);
    this.text.focus();
  }
}
