// The comment form: "Leave a Reply" at the end of the thread, moved under a
// comment to reply to it (one form, like WordPress, so a draft never splits).
// Guest details, login choices, Markdown hint and preview, and an error
// beside each field the server names.

import { h, on, uid } from "../dom";
import type { I18n, Key } from "../i18n";
import { renderPreview } from "../preview";
import { ownStorage } from "../storage";
import type { Me, Site } from "../types";

/** A provider's display name as the server gives it ("github" -> "GitHub"). */
export function providerName(site: Site | null, id: string | undefined): string {
  if (id === "sso") return site?.name || id;  // the blog's own account
  return site?.providers?.find((p) => p.id === id)?.name || id || "";
}

export interface FormValues {
  text: string;
  name: string;
  email: string;
  website: string;
  remember: boolean;
  notify: boolean;
}

export interface FormHooks {
  submit(values: FormValues): void;
  cancelReply(): void;
  input(values: FormValues): void;
  logOut(everywhere?: boolean): Promise<void> | void;
  logIn(provider: string): void;
  /** The reader's own data (download), and deleting their account and comments here. */
  myData(): void;
  deleteMe(button: HTMLButtonElement): void;
  /** The reader's passkeys, opened under their name (null: not offered). */
  passkeys: { el: HTMLElement; toggle(): boolean } | null;
}

type Field = "text" | "name" | "email" | "website";
const FIELDS: Field[] = ["text", "name", "email", "website"];

export class CommentForm {
  readonly el: HTMLFormElement;
  private readonly heading: HTMLHeadingElement;
  private readonly cancel: HTMLButtonElement;
  private readonly inputs: Record<Field, HTMLInputElement | HTMLTextAreaElement>;
  private readonly errors: Record<Field, HTMLElement>;
  private readonly general: HTMLElement;
  private readonly remember: HTMLInputElement;
  private readonly notify: HTMLInputElement | null;
  private readonly notifyRow: HTMLElement | null;
  private readonly guest: HTMLFieldSetElement;
  private readonly signedIn: HTMLElement;
  private readonly login: HTMLElement | null;
  private readonly preview: HTMLElement;
  private readonly previewButton: HTMLButtonElement;
  private readonly submitButton: HTMLButtonElement;

  constructor(private readonly i18n: I18n, private readonly site: Site | null, private readonly hooks: FormHooks) {
    const t = (k: Key, vars?: Record<string, string>): string => i18n.t(k, vars);
    this.heading = h("h3", { class: "rj-formtitle", id: uid("ft") }, t("leaveReply"));
    this.cancel = h("button", { type: "button", class: "rj-link", hidden: true }, t("cancelReply"));

    const textId = uid("text");
    const hintId = uid("hint");
    const text = h("textarea", { id: textId, name: "text", rows: 5, required: true, "aria-describedby": hintId });
    const field = (name: Exclude<Field, "text">, type: string, autocomplete: string, required: boolean, note?: string) => {
      const id = uid(name);
      const noteId = note ? uid("note") : null;
      const input = h("input", { id, name, type, autocomplete, required, "aria-describedby": noteId,
        maxlength: name === "name" ? 80 : name === "email" ? 254 : 512 });
      const label = h("label", { for: id }, t(name), required ? h("span", { class: "rj-req" }, " " + t("required")) : null);
      return { input, row: h("p", { class: "rj-field" }, label, input, noteId ? h("span", { class: "rj-note", id: noteId }, note) : null) };
    };
    const name = field("name", "text", "name", true);
    const email = field("email", "email", "email", false, t("emailNote"));
    const website = field("website", "url", "url", false);
    this.inputs = { text, name: name.input, email: email.input, website: website.input };

    this.errors = {} as Record<Field, HTMLElement>;
    for (const f of FIELDS) {
      const err = h("span", { class: "rj-error", id: uid("err"), hidden: true });
      this.errors[f] = err;
      this.inputs[f].after(err);
    }
    this.general = h("p", { class: "rj-error", role: "alert", hidden: true });

    this.remember = h("input", { type: "checkbox", id: uid("rem") });
    this.notify = site?.notifications ? h("input", { type: "checkbox", id: uid("notify") }) : null;
    this.notifyRow = this.notify
      ? h("p", { class: "rj-check" }, this.notify, h("label", { for: this.notify.id }, t("notify")))
      : null;

    this.guest = h("fieldset", { class: "rj-guest" },
      h("legend", { class: "rj-sr" }, t("guestDetails")),
      name.row, email.row, website.row,
      h("p", { class: "rj-check" }, this.remember, h("label", { for: this.remember.id }, t("remember"))));

    const providers = (site?.providers || []).filter((p) => typeof p.id === "string" && typeof p.name === "string");
    this.login = providers.length
      ? h("div", { class: "rj-login" }, h("p", {}, t("loginIntro")),
        ...providers.map((p) => {
          const b = h("button", { type: "button", class: "rj-button rj-provider", "data-provider": p.id },
            t("loginWith", { provider: p.name }));
          on(b, "click", () => hooks.logIn(p.id));
          return b;
        }))
      : null;
    this.signedIn = h("p", { class: "rj-signedin", hidden: true });

    this.preview = h("div", { class: "rj-preview rj-body", hidden: true, tabindex: -1 });
    this.previewButton = h("button", { type: "button", class: "rj-button rj-quiet", "aria-pressed": "false" }, t("preview"));
    this.submitButton = h("button", { type: "submit", class: "rj-button rj-primary" }, t("post"));

    this.el = h("form", { class: "rj-form", novalidate: true, "aria-labelledby": this.heading.id },
      h("div", { class: "rj-formhead" }, this.heading, this.cancel),
      this.login,
      this.signedIn,
      hooks.passkeys?.el ?? null,
      h("p", { class: "rj-field" }, h("label", { for: textId }, t("comment")), text, this.errors.text,
        h("span", { class: "rj-note", id: hintId }, t("markdownHint"))),
      this.preview,
      this.guest,
      this.notifyRow,
      site?.moderation === "hold_all" ? h("p", { class: "rj-note" }, t("moderated")) : null,
      this.general,
      h("div", { class: "rj-formactions" }, this.previewButton, this.submitButton),
    );

    on(this.el, "submit", (e) => {
      e.preventDefault();
      hooks.submit(this.values());
    });
    on(text, "keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        this.el.requestSubmit();
      }
    });
    on(this.el, "input", (e) => {
      const target = e.target as HTMLElement;
      const f = FIELDS.find((k) => this.inputs[k] === target);
      if (f) this.clearError(f);
      hooks.input(this.values());
    });
    on(this.cancel, "click", () => hooks.cancelReply());
    on(this.previewButton, "click", () => this.togglePreview());
  }

  /** The comment's text box (for the @-suggestions, mentions.ts). */
  get textArea(): HTMLTextAreaElement {
    return this.inputs.text as HTMLTextAreaElement;
  }

  values(): FormValues {
    return {
      text: this.inputs.text.value,
      name: this.inputs.name.value.trim(),
      email: this.inputs.email.value.trim(),
      website: this.inputs.website.value.trim(),
      remember: this.remember.checked,
      notify: !!this.notify?.checked,
    };
  }

  fill(v: Partial<FormValues>): void {
    for (const f of FIELDS) if (typeof v[f] === "string") this.inputs[f].value = v[f] as string;
    if (v.remember !== undefined) this.remember.checked = v.remember;
  }

  focusText(): void {
    this.inputs.text.focus({ preventScroll: true });
  }

  /** Heading and cancel button for a reply (name given) or the top-level form (null). */
  setReplying(name: string | null): void {
    this.heading.textContent = name === null ? this.i18n.t("leaveReply") : this.i18n.t("replyTo", { name });
    this.cancel.hidden = name === null;
  }

  setMe(me: Me): void {
    const user = me.kind === "user";
    this.guest.hidden = user;
    this.guest.disabled = user;
    if (this.login) this.login.hidden = user;
    this.signedIn.hidden = !user;
    // Mail needs an address: a guest types one; a signed-in reader has one only if their provider gave it.
    if (this.notify && this.notifyRow) {
      this.notifyRow.hidden = user && !me.email && !me.has_email;
      if (this.notifyRow.hidden) this.notify.checked = false;
    }
    if (user) {
      const out = h("button", { type: "button", class: "rj-link" }, this.i18n.t("logOut"));
      const change = h("button", { type: "button", class: "rj-link" }, this.i18n.t("change"));
      on(out, "click", () => this.hooks.logOut());
      // "Change" is log out, then the login choices are right there: put focus on them.
      on(change, "click", () => {
        void Promise.resolve(this.hooks.logOut()).then(() => this.login?.querySelector("button")?.focus());
      });
      // Ending every session of the account is offered only where the session is the frame's
      // own: one the blog page holds may not reach the reader's other sites (server refuses too).
      const everywhere = me.kept === "page" ? null
        : h("button", { type: "button", class: "rj-link" }, this.i18n.t("logOutEverywhere"));
      if (everywhere) on(everywhere, "click", () => this.hooks.logOut(true));
      // Who is about to comment, as the comment will show them: picture (ours only) and name.
      const face = me.avatar && me.avatar.startsWith("/") && !me.avatar.startsWith("//")
        ? h("img", { class: "rj-avatar", src: me.avatar, alt: "" })
        : h("span", { class: "rj-avatar rj-initial", "aria-hidden": "true" }, (me.name || "?").charAt(0).toUpperCase());
      // Their data and their account: only where the frame keeps the session itself (the server refuses too).
      // A passkey is a way back into this account (not for a site's own members: the site signs them in),
      // added only where the frame keeps the session itself: a session the blog page handed back could be
      // anyone's, and the reader's passkey would then open that account.
      const passkey = ownStorage && me.provider !== "sso" && this.site?.providers?.some((p) => p.id === "passkey");
      const mine = me.kept === "page" ? null
        : h("span", { class: "rj-mine" },
          h("button", { type: "button", class: "rj-link", "data-mine": "data" }, this.i18n.t("myData")), " · ",
          h("button", { type: "button", class: "rj-link", "data-mine": "delete" }, this.i18n.t("deleteMe")),
          ...(passkey && this.hooks.passkeys ? [" · ", h("button", { type: "button", class: "rj-link",
            "data-mine": "passkey", "aria-expanded": "false", "aria-controls": "rj-keys" }, this.i18n.t("passkeys"))] : []));
      mine?.querySelectorAll<HTMLButtonElement>("button").forEach((b) => on(b, "click", () => {
        const what = b.dataset.mine;
        if (what === "data") this.hooks.myData();
        else if (what === "passkey") b.setAttribute("aria-expanded", String(!!this.hooks.passkeys?.toggle()));
        else this.hooks.deleteMe(b);
      }));
      if (this.hooks.passkeys) this.hooks.passkeys.el.hidden = true;
      this.signedIn.replaceChildren(face, h("strong", { class: "rj-me" }, me.name || ""),
        h("span", {}, this.i18n.t("signedIn", { provider: providerName(this.site, me.provider) }), " ", out, " / ",
          change, ...(everywhere ? [" · ", everywhere] : [])), ...(mine ? [mine] : []));
    }
  }

  busy(on: boolean): void {
    this.submitButton.disabled = on;
    this.el.setAttribute("aria-busy", on ? "true" : "false");
  }

  /** Show the server's message beside the field it names (or above the buttons), and focus that field. */
  showError(field: string | undefined, message: string): void {
    const f = FIELDS.find((k) => k === field);
    if (!f) {
      this.general.textContent = message;
      this.general.hidden = false;
      return;
    }
    if (this.guest.hidden && f !== "text") {
      this.general.textContent = message;
      this.general.hidden = false;
      return;
    }
    const input = this.inputs[f];
    const err = this.errors[f];
    err.textContent = message;
    err.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [err.id, input.getAttribute("aria-describedby")].filter(Boolean).join(" "));
    if (!this.preview.hidden) this.togglePreview();
    input.focus();
  }

  clearErrors(): void {
    FIELDS.forEach((f) => this.clearError(f));
    this.general.hidden = true;
  }

  private clearError(f: Field): void {
    const input = this.inputs[f];
    const err = this.errors[f];
    if (err.hidden) return;
    err.hidden = true;
    input.removeAttribute("aria-invalid");
    const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== err.id);
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  private togglePreview(): void {
    const showing = this.preview.hidden;
    const text = this.inputs.text as HTMLTextAreaElement;
    if (showing) {
      const value = text.value.trim();
      this.preview.replaceChildren(value ? renderPreview(value) : h("p", { class: "rj-muted" }, this.i18n.t("previewEmpty")));
    }
    this.preview.hidden = !showing;
    text.hidden = showing;
    this.previewButton.textContent = this.i18n.t(showing ? "backToEdit" : "preview");
    this.previewButton.setAttribute("aria-pressed", showing ? "true" : "false");
  }
}
