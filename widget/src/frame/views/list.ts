// The thread as nested lists: each comment an <li> holding its <article>, a
// slot for the reply form and an <ol> of replies. Replies stay in id order
// (ids only grow, so that is posting order) whatever order they arrive in:
// first page, "show more", a live event or a reconnect replay. Top-level
// comments follow the reader's sort: oldest or newest first, or best (most
// liked when they were placed: a like does not move a comment under the reader).

import { h } from "../dom";
import type { I18n } from "../i18n";
import type { Comment, Order } from "../types";
import { likesText } from "./comment";

interface Entry {
  c: Comment;
  li: HTMLLIElement;
  article: HTMLElement;
  kids: HTMLOListElement | null;
  more: HTMLButtonElement | null;
}

export type Upsert = "added" | "updated" | "unchanged" | "skipped";

// What can differ between two copies of a comment, for merge(): its content and this reader's view of it.
const FIELDS = ["status", "created", "edited", "html", "likes", "liked", "mine", "text", "email", "editable_until",
  "parent", "reply_to"] as const;

function same(a: Comment, b: Comment): boolean {
  return FIELDS.every((k) => (a[k] ?? null) === (b[k] ?? null)) && JSON.stringify(a.author) === JSON.stringify(b.author);
}

export class CommentList {
  readonly root: HTMLOListElement;
  private entries = new Map<number, Entry>();
  /** The top-level comment an admin pinned: it sorts first. */
  pinned: number | null = null;
  /** How top-level comments sort; set before the first one is placed (clear() to change it). */
  order: Order = "oldest";
  /** Each top-level comment's place, fixed when it was placed. */
  private places = new Map<number, number>();

  constructor(private readonly render: (c: Comment) => HTMLElement, private readonly i18n: I18n) {
    this.root = h("ol", { class: "rj-list" });
  }

  get(id: number): Comment | null {
    return this.entries.get(id)?.c ?? null;
  }

  item(id: number): HTMLLIElement | null {
    return this.entries.get(id)?.li ?? null;
  }

  all(): Comment[] {
    return Array.from(this.entries.values(), (e) => e.c);
  }

  /** Add a comment, or refresh one we have. A reply whose parent is not loaded is skipped.
   * `live`: the comment comes from an event rather than a page fetched for this reader. */
  upsert(incoming: Comment, live = false): Upsert {
    const known = this.entries.get(incoming.id);
    if (known) {
      let c = incoming;
      if (live) {
        // An event may carry the public view, and cannot know this reader's like:
        // keep what only the author's own view has, and the reader's like.
        if (known.c.mine && !incoming.mine && incoming.status !== "deleted") {
          c = { ...incoming, mine: true, text: known.c.text, email: known.c.email, editable_until: known.c.editable_until };
        }
        c = { ...c, liked: known.c.liked };
      }
      known.c = c;
      this.redraw(known);
      return "updated";
    }
    const into = this.container(incoming.parent);
    if (!into) return "skipped";
    const article = this.render(incoming);
    const li = h("li", { class: "rj-item", id: `rj-c${incoming.id}`, "data-id": incoming.id }, article);
    this.entries.set(incoming.id, { c: incoming, li, article, kids: null, more: null });
    if (into === this.root) this.places.set(incoming.id, this.place(incoming));
    into.insertBefore(li, this.nextSibling(into, incoming));
    return "added";
  }

  /** upsert() for a page fetched again (the reader's own view after the public one,
   * a resync): a comment that did not change keeps its element, so the page only
   * pays for what changed. */
  merge(incoming: Comment): Upsert {
    const known = this.entries.get(incoming.id);
    return known && same(known.c, incoming) ? "unchanged" : this.upsert(incoming);
  }

  /** Where the reply form goes under comment `id`, right after it: made when first
   * asked for, as most comments never get one (200 fewer elements to lay out). */
  slot(id: number): HTMLElement | null {
    const e = this.entries.get(id);
    if (!e) return null;
    let slot = e.li.querySelector<HTMLElement>(":scope > .rj-slot");
    if (!slot) {
      slot = h("div", { class: "rj-slot" });
      e.article.after(slot);
    }
    return slot;
  }

  /** Redraw one comment (its edit window closed, a name it mentions arrived...). */
  refresh(id: number): void {
    const e = this.entries.get(id);
    if (e) this.redraw(e);
  }

  /** A deleted comment: gone if nothing hangs under it, else a placeholder keeps the replies in place. */
  removeOrMark(c: Comment): void {
    const e = this.entries.get(c.id);
    if (!e) return;
    if (e.kids?.children.length || e.more) {
      e.c = c;
      this.redraw(e);
      return;
    }
    e.li.remove();
    this.entries.delete(c.id);
  }

  /** A comment an admin took down: it goes, with the replies under it (readers may not see those either). */
  remove(id: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    for (const [other, entry] of this.entries) {
      if (e.li.contains(entry.li)) this.entries.delete(other);
    }
    e.li.remove();
  }

  setLikes(id: number, likes: number, liked?: boolean): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.c = { ...e.c, likes, liked: liked ?? e.c.liked };
    const span = e.article.querySelector(".rj-likes");
    if (span) span.textContent = likesText(likes, this.i18n);
    e.article.querySelector(".rj-like")?.setAttribute("aria-pressed", e.c.liked ? "true" : "false");
  }

  /** The "show N more replies" button under a top-level comment, or none when next is null. */
  setMoreReplies(root: number, left: number, cursor: string | null): void {
    const e = this.entries.get(root);
    if (!e) return;
    e.more?.remove();
    e.more = null;
    if (!cursor || left <= 0) return;
    e.more = h("button", { type: "button", class: "rj-more", "data-action": "more-replies", "data-cursor": cursor },
      this.i18n.t("moreReplies", { n: left }));
    e.li.append(e.more);
  }

  /** An element shown where a comment being posted will land (removed once the server answers). */
  placeholder(parent: number | null, article: HTMLElement): HTMLLIElement | null {
    const into = this.container(parent);
    if (!into) return null;
    const li = h("li", { class: "rj-item rj-sending" }, article);
    into.append(li);
    return li;
  }

  /** The y where a new comment would appear: the top of what it would be inserted before. */
  landingY(c: Comment): number | null {
    const into = this.container(c.parent, false);
    if (!into) {
      const parent = c.parent === null ? null : this.entries.get(c.parent);
      return parent ? parent.li.getBoundingClientRect().bottom + scrollY : null;
    }
    const next = this.nextSibling(into, c);
    const rect = (next || into).getBoundingClientRect();
    return (next ? rect.top : rect.bottom) + scrollY;
  }

  private container(parent: number | null, create = true): HTMLOListElement | null {
    if (parent === null) return this.root;
    const p = this.entries.get(parent);
    if (!p) return null;
    if (!p.kids && create) {
      p.kids = h("ol", { class: "rj-list rj-kids" });
      p.li.insertBefore(p.kids, p.more);
    }
    return p.kids || null;
  }

  /** Every comment gone (the reader chose another order): the next page starts afresh. */
  clear(): void {
    this.entries.clear();
    this.places.clear();
    this.root.replaceChildren();
  }

  /** Where a top-level comment goes in the reader's order (smaller first). */
  private place(c: Comment): number {
    if (this.order === "newest") return -c.id;
    if (this.order === "best") return -(c.likes || 0) * 2 ** 32 + c.id;
    return c.id;
  }

  /** Where a comment sorts among its siblings: replies by id; top-level comments by their place,
   * except that the pinned one leads the thread. */
  private rank(into: HTMLOListElement, id: number, c?: Comment): number {
    if (into !== this.root) return id;
    if (id === this.pinned) return -Infinity;
    return this.places.get(id) ?? (c ? this.place(c) : id);
  }

  private nextSibling(into: HTMLOListElement, c: Comment): Element | null {
    const key = this.rank(into, c.id, c);
    // Comments nearly always arrive in order: check the end first, skip the scan.
    const last = into.lastElementChild as HTMLElement | null;
    if (!last || this.rank(into, Number(last.dataset.id || Infinity)) < key) return null;
    for (const li of Array.from(into.children)) {
      const other = this.rank(into, Number((li as HTMLElement).dataset.id || Infinity));
      if (other > key) return li;
    }
    return null;
  }

  private redraw(e: Entry): void {
    // Keep keyboard focus where it was (the comment itself or one of its buttons).
    const active = document.activeElement as HTMLElement | null;
    const had = active === e.article ? "" : e.article.contains(active) ? active?.dataset.action : undefined;
    const article = this.render(e.c);
    e.article.replaceWith(article);
    e.article = article;
    if (had === "") article.focus({ preventScroll: true });
    else if (had) article.querySelector<HTMLElement>(`[data-action="${had}"]`)?.focus({ preventScroll: true });
  }
}
