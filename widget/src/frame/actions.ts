// What a reader does to existing comments: like them, like the post, and edit
// or delete their own. Likes show at once and roll back if the server says no.

import { ApiError } from "./api";
import type { Ctx } from "./context";
import { h, on } from "./dom";
import { dropToken, tokenFor } from "./tokens";
import { Editor } from "./views/editor";

// How long "Really delete?" waits for the second click before it backs off.
const CONFIRM_MS = 5000;

export class Actions {
  private postLiked = false;

  constructor(private readonly ctx: Ctx) {
    this.postLiked = !!ctx.thread.liked;
  }

  private fail(e: unknown): void {
    const { i18n, announcer } = this.ctx;
    announcer.say(e instanceof ApiError && e.code !== "network" ? e.message : i18n.t("networkError"));
  }

  /** Reaction counts by comment, and this reader's own ("cid|emoji"). */
  readonly reactions = new Map<number, Record<string, number>>();
  readonly reacted = new Set<string>();

  /** Counts from the server (the thread's, or one emoji's after an event); redraws what changed. */
  setReactions(id: number, emoji: string, count: number): void {
    const counts = { ...(this.reactions.get(id) || {}) };
    if (count > 0) counts[emoji] = count; else delete counts[emoji];
    this.reactions.set(id, counts);
    this.ctx.list.refresh(id);
  }

  /** Toggle this reader's `emoji` on comment `id`: shown at once, put right by the server's answer. */
  async react(id: number, emoji: string): Promise<void> {
    const { api, thread } = this.ctx;
    const key = `${id}|${emoji}`;
    const on = !this.reacted.has(key);
    const before = this.reactions.get(id)?.[emoji] || 0;
    if (on) this.reacted.add(key); else this.reacted.delete(key);
    this.setReactions(id, emoji, Math.max(0, before + (on ? 1 : -1)));
    try {
      const r = await api.react(thread.id, id, emoji, on);
      if (r.reacted) this.reacted.add(key); else this.reacted.delete(key);
      this.setReactions(id, emoji, r.count);
    } catch (e) {
      if (on) this.reacted.delete(key); else this.reacted.add(key);
      this.setReactions(id, emoji, before);
      this.fail(e);
    }
  }

  /** The site's emoji under a comment, to pick one. */
  pickReaction(button: HTMLElement, emoji: string[]): void {
    const bar = button.closest(".rj-actions");
    const open = bar?.parentElement?.querySelector(".rj-picker");
    if (open) {
      open.remove();
      button.setAttribute("aria-expanded", "false");
      return;
    }
    const picker = h("div", { class: "rj-picker", role: "group", "aria-label": this.ctx.i18n.t("react") },
      ...emoji.map((e) => h("button", { type: "button", class: "rj-chip", "data-action": "react", "data-emoji": e,
        "aria-label": this.ctx.i18n.t("reactWith", { emoji: e }) }, e)));
    bar?.after(picker);
    button.setAttribute("aria-expanded", "true");
    picker.querySelector<HTMLElement>("button")?.focus();
  }

  /** Comments this reader reported in this page view: they show "Reported" instead of the button. */
  readonly reported = new Set<number>();

  /** Ask why, under the comment's buttons, then send the report. */
  report(id: number, button: HTMLElement): void {
    const { i18n, list, api, thread, announcer } = this.ctx;
    const bar = button.closest(".rj-actions");
    if (!bar || bar.parentElement?.querySelector(".rj-reportbox")) return;
    const reasons: [string, string][] = [["spam", i18n.t("reportSpam")], ["abuse", i18n.t("reportAbuse")],
      ["off_topic", i18n.t("reportOffTopic")], ["other", i18n.t("reportOther")]];
    const selectId = `rj-why-${id}`;
    const select = h("select", { id: selectId, class: "rj-sort" }, ...reasons.map(([v, t]) => h("option", { value: v }, t)));
    const send = h("button", { type: "button", class: "rj-button" }, i18n.t("reportSend"));
    const cancel = h("button", { type: "button", class: "rj-link" }, i18n.t("cancel"));
    const box = h("div", { class: "rj-reportbox" },
      h("label", { for: selectId }, i18n.t("reportWhy")), select, send, cancel);
    bar.after(box);
    button.setAttribute("aria-expanded", "true");
    select.focus();
    const close = (): void => {
      box.remove();
      button.setAttribute("aria-expanded", "false");
    };
    on(cancel, "click", () => {
      close();
      button.focus();
    });
    on(send, "click", async () => {
      send.disabled = true;
      try {
        await api.report(thread.id, id, select.value);
        this.reported.add(id);
        box.remove();
        list.refresh(id);
        announcer.say(i18n.t("reported"));
      } catch (e) {
        send.disabled = false;
        this.fail(e);
      }
    });
  }

  async likeComment(id: number): Promise<void> {
    const { list, api, thread } = this.ctx;
    const c = list.get(id);
    if (!c) return;
    const on = !c.liked;
    list.setLikes(id, c.likes + (on ? 1 : -1), on);
    try {
      const r = await api.like(thread.id, id, on);
      list.setLikes(id, r.likes, r.liked);
    } catch (e) {
      list.setLikes(id, c.likes, c.liked);
      this.fail(e);
    }
  }

  async likePost(): Promise<void> {
    const { header, api, thread } = this.ctx;
    const before = thread.likes;
    const on = !this.postLiked;
    this.postLiked = on;
    header.setLikes(before + (on ? 1 : -1), on);
    try {
      const r = await api.like(thread.id, "post", on);
      thread.likes = r.likes;
      this.postLiked = r.liked;
    } catch (e) {
      this.postLiked = !on;
      this.fail(e);
    }
    header.setLikes(thread.likes, this.postLiked);
  }

  /** A new like count for the post: the count is everyone's; the pressed state is ours,
   * known from the server's thread (when it says) or kept from our own clicks. */
  postLikes(likes: number, liked?: boolean): void {
    this.ctx.thread.likes = likes;
    if (liked !== undefined) this.postLiked = liked;
    this.ctx.header.setLikes(likes, this.postLiked);
  }

  edit(id: number): void {
    const { list, i18n, api, thread } = this.ctx;
    const c = list.get(id);
    const li = list.item(id);
    const article = li?.querySelector("article");
    if (!c || !article || article.querySelector(".rj-editor")) return;
    const body = article.querySelector<HTMLElement>(".rj-body");
    const actions = article.querySelector<HTMLElement>(".rj-actions");
    const close = (): void => {
      editor.el.remove();
      if (body) body.hidden = false;
      if (actions) actions.hidden = false;
      article.querySelector<HTMLElement>('[data-action="edit"]')?.focus();
    };
    const editor = new Editor(i18n, c.text ?? "", {
      cancel: close,
      save: async (text) => {
        editor.busy(true);
        try {
          const r = await api.edit(thread.id, id, text, tokenFor(thread.id, id));
          list.upsert(r.comment); // redraws the comment, which removes the editor
          list.item(id)?.querySelector<HTMLElement>('[data-action="edit"]')?.focus();
        } catch (e) {
          editor.busy(false);
          editor.showError(e instanceof ApiError && e.code !== "network" ? e.message : i18n.t("networkError"));
        }
      },
    });
    if (body) body.hidden = true;
    if (actions) actions.hidden = true;
    (body || article).after(editor.el);
    editor.focus();
  }

  async remove(id: number, button: HTMLElement): Promise<void> {
    const { list, i18n, api, thread } = this.ctx;
    // Two steps instead of window.confirm: a modal dialog would block the host page too.
    if (button.dataset.confirm !== "1") {
      button.dataset.confirm = "1";
      button.textContent = i18n.t("confirmDelete");
      window.setTimeout(() => {
        button.dataset.confirm = "";
        button.textContent = i18n.t("delete");
      }, CONFIRM_MS);
      return;
    }
    try {
      const r = await api.remove(thread.id, id, tokenFor(thread.id, id));
      const parent = list.get(id)?.parent ?? null;
      dropToken(thread.id, id);
      this.ctx.leaving(id);
      list.removeOrMark(r.comment);
      this.ctx.setCount(r.thread.count);
      // Focus somewhere sensible rather than letting it fall to the document.
      const next = parent !== null ? list.item(parent)?.querySelector("article") : document.getElementById("rj-title");
      next?.setAttribute("tabindex", "-1");
      next?.focus({ preventScroll: true });
    } catch (e) {
      this.fail(e);
      if (e instanceof ApiError && e.code === "edit_window_closed") list.refresh(id);
    }
  }
}
