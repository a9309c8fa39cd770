// The signed-in reader's passkeys, opened from "Passkeys" under their name: when each was added and last
// used, a Remove button for each (a key the reader does not know is theirs to take out), and "Add a passkey".

import type { Api } from "../api";
import { ApiError } from "../api";
import { h, on } from "../dom";
import type { I18n } from "../i18n";

export interface Passkey {
  id: string;
  created: string;
  used: string | null;
}

export class PasskeyPanel {
  readonly el = h("div", { class: "rj-keys", id: "rj-keys", hidden: true });

  constructor(private readonly api: Api, private readonly site: string, private readonly i18n: I18n,
              private readonly hooks: { add(done: () => void): void; say(message: string): void }) {}

  /** Open or close; true when it is open now. */
  toggle(): boolean {
    this.el.hidden = !this.el.hidden;
    if (!this.el.hidden) void this.show();
    return !this.el.hidden;
  }

  async show(): Promise<void> {
    const { i18n } = this;
    let keys: Passkey[];
    try {
      keys = (await this.api.passkeys(this.site)).passkeys;
    } catch (e) {
      this.hooks.say(e instanceof ApiError && e.message ? e.message : i18n.t("networkError"));
      return;
    }
    const day = new Intl.DateTimeFormat(i18n.lang, { dateStyle: "medium" });
    const when = (iso: string): string => day.format(new Date(iso));
    const items = keys.map((key) => {
      const remove = h("button", { type: "button", class: "rj-link" }, i18n.t("removePasskey"));
      on(remove, "click", () => {
        remove.disabled = true;
        this.api.removePasskey(this.site, key.id).then(() => {
          this.hooks.say(i18n.t("passkeyRemoved"));
          return this.show();
        }, (e) => {
          remove.disabled = false;
          this.hooks.say(e instanceof ApiError && e.message ? e.message : i18n.t("networkError"));
        });
      });
      return h("li", {}, i18n.t("passkeyAddedOn", { date: when(key.created) }),
        key.used ? " · " + i18n.t("passkeyUsed", { date: when(key.used) }) : "", " ", remove);
    });
    const add = h("button", { type: "button", class: "rj-button" }, i18n.t("addPasskey"));
    on(add, "click", () => this.hooks.add(() => void this.show()));
    this.el.replaceChildren(items.length ? h("ul", {}, ...items) : h("p", {}, i18n.t("passkeyNone")), add);
  }
}
