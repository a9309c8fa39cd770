// The section's head: "N thoughts on <title>", the post's like button, the thread's
// Atom feed, and a quiet connection state.

import { h } from "../dom";
import type { I18n } from "../i18n";
import { ORDERS, type Order, type RemoteCounts } from "../types";
import { likesText } from "./comment";

// A reconnect that succeeds within this long is not worth telling the reader about.
const OFFLINE_GRACE_MS = 2000;

export class Header {
  readonly el: HTMLElement;
  readonly likeButton: HTMLButtonElement;
  readonly sort: HTMLSelectElement;
  private readonly title: HTMLHeadingElement;
  private readonly likes: HTMLSpanElement;
  private readonly status: HTMLSpanElement;
  private readonly readers: HTMLSpanElement;
  private readonly typing: HTMLSpanElement;
  private readonly remote: HTMLSpanElement;
  private typingTimer = 0;
  private offlineTimer = 0;

  constructor(private readonly i18n: I18n, private readonly postTitle: string, threadId: string, order: Order) {
    this.title = h("h2", { class: "rj-title", id: "rj-title" });
    this.likeButton = h("button", { type: "button", class: "rj-button rj-postlike", "aria-pressed": "false" },
      i18n.t("likePost"));
    this.likes = h("span", { class: "rj-likes" });
    this.status = h("span", { class: "rj-status", hidden: true }, i18n.t("offline"));
    this.readers = h("span", { class: "rj-readers", hidden: true });
    this.typing = h("span", { class: "rj-typing", hidden: true, role: "status" });
    this.remote = h("span", { class: "rj-remote" });
    const names = { oldest: i18n.t("sortOldest"), newest: i18n.t("sortNewest"), best: i18n.t("sortBest") };
    this.sort = h("select", { class: "rj-sort", id: "rj-sort" },
      ...ORDERS.map((o) => h("option", { value: o, selected: o === order }, names[o])));
    this.el = h("header", { class: "rj-head" },
      this.title,
      h("div", { class: "rj-headbar" }, this.likeButton, this.likes, this.remote, this.readers, this.typing,
        h("label", { class: "rj-sortby", for: "rj-sort" }, i18n.t("sortBy")), this.sort,
        h("a", { class: "rj-feed", href: `/api/feeds/threads/${threadId}.atom`, target: "_blank",
                 rel: "noopener", type: "application/atom+xml" }, i18n.t("feed")),
        this.status));
  }

  setCount(n: number): void {
    this.title.textContent = this.i18n.t("heading", { n, title: this.postTitle || this.i18n.t("thisPost") });
  }

  setLikes(n: number, liked: boolean): void {
    this.likes.textContent = likesText(n, this.i18n);
    this.likeButton.setAttribute("aria-pressed", liked ? "true" : "false");
    this.likeButton.textContent = this.i18n.t(liked ? "likedPost" : "likePost");  // as WordPress says it
  }

  /** The post's likes and boosts on Mastodon, likes and reposts on Bluesky, each a link to the post there. */
  setRemote(counts: RemoteCounts | null | undefined): void {
    const t = this.i18n.t.bind(this.i18n);
    this.remote.replaceChildren(...(["mastodon", "bluesky"] as const).flatMap((via) => {
      const c = counts?.[via];
      if (!c || !/^https?:\/\//i.test(c.url)) return [];
      const shares = via === "mastodon" ? t("boosts", { n: c.boosts || 0 }) : t("reposts", { n: c.reposts || 0 });
      return [h("a", { class: "rj-link rj-onremote", href: c.url, target: "_blank", rel: "noopener" },
        `${t("remoteLikes", { n: c.likes })}, ${shares} ${t(via === "mastodon" ? "onMastodon" : "onBluesky")}`)];
    }));
  }

  /** "N reading now": shown once someone besides this reader has the thread open. */
  setReaders(n: number): void {
    this.readers.hidden = n < 2;
    this.readers.textContent = n < 2 ? "" : this.i18n.t("readingNow", { n });
  }

  /** "Someone is replying…" while others type (it fades if no word comes for a few seconds). */
  setTyping(others: number): void {
    clearTimeout(this.typingTimer);
    this.typing.hidden = others < 1;
    this.typing.textContent = others < 1 ? "" : this.i18n.t("typing", { n: others });
    if (others > 0) this.typingTimer = window.setTimeout(() => this.setTyping(0), 7000);
  }

  setOnline(online: boolean): void {
    if (online) {
      clearTimeout(this.offlineTimer);
      this.offlineTimer = 0;
      this.status.hidden = true;
    } else if (!this.offlineTimer) {
      // Counted from the first failed attempt: later retries do not put the notice off.
      this.offlineTimer = window.setTimeout(() => { this.status.hidden = false; }, OFFLINE_GRACE_MS);
    }
  }
}
