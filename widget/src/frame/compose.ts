// Writing a comment: where the form sits (end of thread or under the comment
// being answered), the draft kept in storage as the reader types, and the
// optimistic post: shown at once, confirmed or taken back with the server's
// reason beside the field, and the text is never lost.

import { ApiError } from "./api";
import type { Ctx } from "./context";
import { h } from "./dom";
import { clearDraft, loadDraft, loadGuest, saveDraft, saveGuest, type Draft } from "./drafts";
import { Mentions, type Participant } from "./mentions";
import { Pow } from "./pow";
import { renderPreview } from "./preview";
import { saveToken } from "./tokens";
import type { Comment } from "./types";
import { CommentForm, type FormHooks, type FormValues } from "./views/form";
import { timeEl } from "./views/comment";

// Typing is saved this long after the last key: often enough to lose nothing
// on a crash, rarely enough not to write storage on every keystroke.
const SAVE_DELAY_MS = 300;

function randomKey(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

// How often a typing reader says so, and how long after their last keystroke they still count.
const TYPING_EVERY_MS = 3000;
const TYPING_FRESH_MS = 6000;

export class Compose {
  readonly form: CommentForm;
  readonly home: HTMLElement;
  private parent: number | null = null;
  private key = "";
  private fingerprint = "";
  private saveTimer = 0;
  private sending = false;
  /** Live arrivals held while our own post is in flight, so it never shows twice. */
  private deferred: (() => void)[] = [];
  /** Where the site asks guests for a proof of work: solved while they type. */
  private readonly pow: Pow | null;
  private readonly mentions: Mentions;

  constructor(private readonly ctx: Ctx, hooks: { logIn(p: string): void; logOut(everywhere?: boolean): Promise<void> | void;
    myData(): void; deleteMe(button: HTMLButtonElement): void; passkeys: FormHooks["passkeys"] }) {
    this.pow = ctx.site?.pow ? new Pow(ctx.api, ctx.params.site) : null;
    this.form = new CommentForm(ctx.i18n, ctx.site, {
      submit: (v) => void this.submit(v),
      cancelReply: () => this.replyTo(null, true),
      input: () => {
        this.scheduleSave();
        if (this.ctx.me.kind !== "user") this.pow?.prepare();
        this.typed();
      },
      logIn: hooks.logIn,
      logOut: hooks.logOut,
      myData: hooks.myData,
      deleteMe: hooks.deleteMe,
      passkeys: hooks.passkeys,
    });
    this.form.setMe(ctx.me);
    this.mentions = new Mentions(this.form.textArea, () => this.participants(), ctx.i18n);
    this.home = h("div", { class: "rj-formhome" }, this.form.el);
    this.setLocked(ctx.thread.locked);
  }

  /** Put back what the reader had typed before a reload: their saved details, then
   * the draft. Called once storage is read (it can be a round trip to the host page). */
  restoreDraft(): void {
    const guest = loadGuest();
    if (guest) this.form.fill({ ...guest, remember: true });
    const draft = loadDraft(this.ctx.thread.id);
    if (!draft) return;
    this.form.fill({ text: draft.text, name: draft.name, email: draft.email, website: draft.website });
    this.key = draft.key || "";
    this.fingerprint = draft.fingerprint || "";
    if (draft.parent !== null && this.ctx.list.get(draft.parent)) this.replyTo(draft.parent, false);
  }

  setLocked(locked: boolean): void {
    this.home.replaceChildren(locked ? h("p", { class: "rj-closed" }, this.ctx.i18n.t("locked")) : this.form.el);
  }

  /** Move the form under comment `id` (or back to the end for null). */
  replyTo(id: number | null, focus: boolean): void {
    const { list, i18n } = this.ctx;
    const before = this.parent;
    if (before !== null) list.item(before)?.querySelector('[data-action="reply"]')?.setAttribute("aria-expanded", "false");
    const li = id === null ? null : list.item(id);
    this.parent = li ? id : null;
    if (li && id !== null) {
      list.slot(id)?.append(this.form.el);
      li.querySelector('[data-action="reply"]')?.setAttribute("aria-expanded", "true");
      this.form.setReplying(list.get(id)?.author?.name || i18n.t("anonymous"));
      if (focus) this.form.focusText();
    } else {
      this.home.append(this.form.el);
      this.form.setReplying(null);
      // Back to the button that opened the reply, so keyboard users keep their place.
      if (focus && before !== null) list.item(before)?.querySelector<HTMLElement>('[data-action="reply"]')?.focus();
    }
    this.scheduleSave();
  }

  /** Comment `id` is about to leave the page: take the form home first if it sits under it. */
  leaving(id: number): void {
    // (A sleeping comment never holds the form: no need to wake it to look.)
    const li = this.parent === null ? null : this.ctx.list.whereIs(id);
    if (li && li.contains(this.form.el)) this.replyTo(null, false);
  }

  /** Run now, or after our own post is answered if one is in flight. */
  whenIdle(f: () => void): void {
    if (this.sending) this.deferred.push(f);
    else f();
  }

  private draft(v: FormValues): Draft {
    return { text: v.text, parent: this.parent, name: v.name, email: v.email, website: v.website,
      key: this.key, fingerprint: this.fingerprint };
  }

  private scheduleSave(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = window.setTimeout(() => saveDraft(this.ctx.thread.id, this.draft(this.form.values())), SAVE_DELAY_MS);
  }

  private lastKey = 0;
  private lastTold = 0;

  /** Where the site shows it, tell the server this reader is typing (every few seconds at most). */
  private typed(): void {
    const now = Date.now();
    this.lastKey = now;
    if (!this.ctx.site?.typing || now - this.lastTold < TYPING_EVERY_MS) return;
    this.lastTold = now;
    this.ctx.api.typing(this.ctx.thread.id).catch(() => undefined);
  }

  /** Whether this reader typed a moment ago (so "someone is replying" leaves them out). */
  typingNow(): boolean {
    return Date.now() - this.lastKey < TYPING_FRESH_MS;
  }

  /** Who has written in the thread (others than this reader), each by their newest shown comment. */
  private participants(): Participant[] {
    const byName = new Map<string, number>();
    for (const c of this.ctx.list.all()) {
      const name = c.author?.name;
      if (!name || c.mine || c.status !== "approved") continue;
      byName.set(name, Math.max(byName.get(name) ?? 0, c.id));
    }
    return [...byName].map(([name, id]) => ({ name, id })).sort((a, b) => b.id - a.id);
  }

  private async submit(v: FormValues): Promise<void> {
    if (this.sending) return;
    const { thread, list, i18n, me } = this.ctx;
    this.form.clearErrors();
    const parent = this.parent;
    // The same request keeps its idempotency key across retries (even after a
    // reload); a changed one gets a new key, or the server would call it a conflict.
    const fingerprint = JSON.stringify([v.text.trim(), parent, v.name, v.email, v.website]);
    if (!this.key || fingerprint !== this.fingerprint) {
      this.key = randomKey();
      this.fingerprint = fingerprint;
    }
    clearTimeout(this.saveTimer);
    saveDraft(thread.id, this.draft(v));

    const body: Record<string, unknown> = { text: v.text };
    if (parent !== null) body.parent = parent;
    if (me.kind !== "user") Object.assign(body, { name: v.name, email: v.email, website: v.website });
    if (v.notify) body.notify = true;
    const mentioned = this.mentions.picked(v.text);
    if (mentioned.length) body.mentions = mentioned;

    const shown = list.placeholder(parent, this.sendingArticle(v));
    this.sending = true;
    this.form.busy(true);
    try {
      const r = await this.send(body);
      shown?.remove();
      this.posted(r.comment, r.edit_token, r.thread.count, v);
    } catch (e) {
      shown?.remove();
      const known = e instanceof ApiError && e.code !== "network";
      this.form.showError(known ? (e as ApiError).field : undefined, known ? (e as Error).message : i18n.t("networkError"));
    } finally {
      this.sending = false;
      this.form.busy(false);
      this.deferred.splice(0).forEach((f) => f());
    }
  }

  /** Post the comment; with a proof of work where the site asks guests for one (a fresh one and a
   * second try if the server found the first spent, late or wrong). */
  private async send(body: Record<string, unknown>): Promise<Awaited<ReturnType<Ctx["api"]["create"]>>> {
    const { api, thread, me } = this.ctx;
    if (!this.pow || me.kind === "user") return api.create(thread.id, body, this.key);
    for (let attempt = 0; ; attempt++) {
      const solution = await this.pow.take();
      try {
        return await api.create(thread.id, solution ? { ...body, pow: solution } : body, this.key);
      } catch (e) {
        if (attempt > 0 || !(e instanceof ApiError && e.code.startsWith("proof_of_work"))) throw e;
      }
    }
  }

  private posted(c: Comment, token: string | undefined, count: number, v: FormValues): void {
    this.mentions.reset();
    const { list, thread, i18n, announcer } = this.ctx;
    if (token && c.editable_until) saveToken(thread.id, c.id, token, Date.parse(c.editable_until));
    this.ctx.setCount(count);
    this.key = "";
    this.fingerprint = "";
    clearDraft(thread.id);
    this.form.fill({ text: "" });
    saveGuest(v.remember && this.ctx.me.kind !== "user" ? { name: v.name, email: v.email, website: v.website } : null);
    this.replyTo(null, false);
    list.upsert(c);
    announcer.say(i18n.t(c.status === "pending" ? "postedPending" : "posted"));
    list.item(c.id)?.querySelector<HTMLElement>("article")?.focus({ preventScroll: true });
  }

  /** The reader's comment as it will look, marked as being sent. Text only: no markup from the textarea. */
  private sendingArticle(v: FormValues): HTMLElement {
    const { i18n, me } = this.ctx;
    const name = me.kind === "user" ? me.name || "" : v.name || i18n.t("anonymous");
    const body = h("div", { class: "rj-body" });
    body.append(renderPreview(v.text));
    return h("article", { class: "rj-card", "aria-busy": "true" },
      h("span", { class: "rj-avatar rj-initial", "aria-hidden": "true" }, name.charAt(0).toUpperCase() || "?"),
      h("div", { class: "rj-main" },
        h("div", { class: "rj-meta" }, h("span", { class: "rj-name" }, name),
          timeEl(new Date().toISOString(), i18n, Date.now()), h("span", { class: "rj-edited" }, i18n.t("sending"))),
        body));
  }
}
