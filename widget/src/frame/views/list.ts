// The thread as nested lists: each comment an <li> holding its <article>, a
// slot for the reply form and an <ol> of replies. Replies stay in id order
// (ids only grow, so that is posting order) whatever order they arrive in:
// first page, "show more", a live event or a reconnect replay. Top-level
// comments follow the reader's sort: oldest or newest first, or best (most
// liked when they were placed: a like does not move a comment under the reader).
//
// A very long thread sleeps what is far from the reader: past WINDOW_FROM comments in the
// page, a top-level comment (with its replies) more than a few screens away gives its elements
// back and leaves an empty <li> of the same height; it is drawn again, from the comments kept
// here, before the reader gets near. A 10,000-comment thread in the page is some 160,000
// elements, and each full garbage collection of them held the main thread 50 ms or more
// (bench/RESULTS.md, Long threads). get(), all() and the updates see sleeping comments too;
// item() wakes the comment it is asked for.

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
  /** The "show more replies" button's count and cursor (top-level comments). */
  moreOf: { left: number; cursor: string } | null;
}

/** A top-level comment asleep: its empty <li>, and what it and its replies were (parents first). */
interface Sleeper {
  li: HTMLLIElement;
  comments: Comment[];
  more: { left: number; cursor: string } | null;
  height: number;
}

/** Past this many comments in the page, far-off ones sleep. */
export const WINDOW_FROM = 1000;
// Awake: within NEAR screens of the view; asleep: past FAR screens (the gap keeps a comment from
// waking and sleeping at each step of a scroll).
const NEAR = 3;
const FAR = 6;
// What a comment being used holds (a form, an open box, a pending answer, a new arrival): it stays awake.
const IN_USE = ".rj-slot:not(:empty), .rj-editor, .rj-reportbox, .rj-picker, .rj-sending, .rj-new, [data-confirm='1']";

export type Upsert = "added" | "updated" | "unchanged" | "skipped";

// What can differ between two copies of a comment, for merge(): its content and this reader's view of it.
const FIELDS = ["status", "created", "edited", "html", "likes", "liked", "mine", "text", "email", "editable_until",
  "parent", "reply_to"] as const;

function same(a: Comment, b: Comment): boolean {
  return FIELDS.every((k) => (a[k] ?? null) === (b[k] ?? null)) && JSON.stringify(a.author) === JSON.stringify(b.author);
}

/** The copy to keep when a comment comes again. An event may carry the public view, and cannot know
 * this reader's like: keep what only the author's own view has, and the reader's like. */
function kept(known: Comment, incoming: Comment, live: boolean): Comment {
  if (!live) return incoming;
  let c = incoming;
  if (known.mine && !incoming.mine && incoming.status !== "deleted") {
    c = { ...incoming, mine: true, text: known.text, email: known.email, editable_until: known.editable_until };
  }
  return { ...c, liked: known.liked };
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
  /** Top-level comments asleep, by id, and the top-level comment each sleeping comment is under. */
  private sleepers = new Map<number, Sleeper>();
  private asleep = new Map<number, number>();
  /** The top-level comments awake. */
  private awake = new Set<number>();

  constructor(private readonly render: (c: Comment) => HTMLElement, private readonly i18n: I18n) {
    this.root = h("ol", { class: "rj-list" });
  }

  get(id: number): Comment | null {
    return this.entries.get(id)?.c ?? this.sleeping(id)?.c ?? null;
  }

  /** The comment's element (woken if it was asleep). */
  item(id: number): HTMLLIElement | null {
    return this.entry(id)?.li ?? null;
  }

  all(): Comment[] {
    const all = Array.from(this.entries.values(), (e) => e.c);
    for (const s of this.sleepers.values()) all.push(...s.comments);
    return all;
  }

  /** The comment's element if it is drawn, else the empty item of the sleeping comment it is under
   * (for where it is: nothing wakes). */
  whereIs(id: number): HTMLLIElement | null {
    const root = this.asleep.get(id);
    return this.entries.get(id)?.li ?? (root === undefined ? null : this.sleepers.get(root)?.li ?? null);
  }

  /** How many comments the page has, asleep or not. */
  get size(): number {
    return this.entries.size + this.asleep.size;
  }

  private entry(id: number): Entry | undefined {
    const root = this.asleep.get(id);
    if (root !== undefined) this.wake(root);
    return this.entries.get(id);
  }

  /** A sleeping comment: where it is kept, and itself. */
  private sleeping(id: number): { s: Sleeper; i: number; c: Comment } | null {
    const root = this.asleep.get(id);
    const s = root === undefined ? undefined : this.sleepers.get(root);
    const i = s ? s.comments.findIndex((c) => c.id === id) : -1;
    return s && i >= 0 ? { s, i, c: s.comments[i] } : null;
  }

  /** Add a comment, or refresh one we have. A reply whose parent is not loaded is skipped.
   * `live`: the comment comes from an event rather than a page fetched for this reader. */
  upsert(incoming: Comment, live = false): Upsert {
    const known = this.entries.get(incoming.id);
    if (known) {
      known.c = kept(known.c, incoming, live);
      this.redraw(known);
      return "updated";
    }
    const sleeping = this.sleeping(incoming.id);
    if (sleeping) {
      sleeping.s.comments[sleeping.i] = kept(sleeping.c, incoming, live);
      return "updated";
    }
    const root = incoming.parent === null ? undefined : this.asleep.get(incoming.parent);
    if (root !== undefined) {
      // A reply under a sleeping comment: kept with it, drawn when it wakes.
      this.sleepers.get(root)!.comments.push(incoming);
      this.asleep.set(incoming.id, root);
      return "added";
    }
    const into = this.container(incoming.parent);
    if (!into) return "skipped";
    const li = this.draw(incoming);
    if (into === this.root) this.places.set(incoming.id, this.place(incoming));
    into.insertBefore(li, this.nextSibling(into, incoming));
    return "added";
  }

  private draw(c: Comment): HTMLLIElement {
    const article = this.render(c);
    const li = h("li", { class: "rj-item", id: `rj-c${c.id}`, "data-id": c.id }, article);
    this.entries.set(c.id, { c, li, article, kids: null, more: null, moreOf: null });
    if (c.parent === null) this.awake.add(c.id);
    return li;
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
    const e = this.entry(id);
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
    const sleeping = this.sleeping(c.id);
    if (sleeping) {
      const { s, i } = sleeping;
      if (s.comments.some((o) => o.parent === c.id) || (i === 0 && s.more)) s.comments[i] = c;
      else if (i === 0) this.remove(c.id);
      else {
        s.comments.splice(i, 1);
        this.asleep.delete(c.id);
      }
      return;
    }
    const e = this.entries.get(c.id);
    if (!e) return;
    if (e.kids?.children.length || e.more) {
      e.c = c;
      this.redraw(e);
      return;
    }
    e.li.remove();
    this.entries.delete(c.id);
    this.awake.delete(c.id);
  }

  /** A comment an admin took down: it goes, with the replies under it (readers may not see those either). */
  remove(id: number): void {
    const sleeping = this.sleeping(id);
    if (sleeping) {
      // It and what hangs under it (parents come before their replies).
      const { s } = sleeping;
      const gone = new Set([id]);
      for (const c of s.comments) if (c.parent !== null && gone.has(c.parent)) gone.add(c.id);
      s.comments = s.comments.filter((c) => !gone.has(c.id));
      gone.forEach((other) => this.asleep.delete(other));
      if (this.sleepers.get(id) === s) {
        this.sleepers.delete(id);
        s.li.remove();
      }
      return;
    }
    const e = this.entries.get(id);
    if (!e) return;
    for (const [other, entry] of this.entries) {
      if (e.li.contains(entry.li)) this.entries.delete(other);
    }
    this.awake.delete(id);
    e.li.remove();
  }

  setLikes(id: number, likes: number, liked?: boolean): void {
    const sleeping = this.sleeping(id);
    if (sleeping) {
      sleeping.s.comments[sleeping.i] = { ...sleeping.c, likes, liked: liked ?? sleeping.c.liked };
      return;
    }
    const e = this.entries.get(id);
    if (!e) return;
    e.c = { ...e.c, likes, liked: liked ?? e.c.liked };
    const span = e.article.querySelector(".rj-likes");
    if (span) span.textContent = likesText(likes, this.i18n);
    e.article.querySelector(".rj-like")?.setAttribute("aria-pressed", e.c.liked ? "true" : "false");
  }

  /** The "show N more replies" button under a top-level comment, or none when next is null. */
  setMoreReplies(root: number, left: number, cursor: string | null): void {
    const more = cursor && left > 0 ? { left, cursor } : null;
    const s = this.sleepers.get(root);
    if (s) s.more = more;
    const e = this.entries.get(root);
    if (!e) return;
    e.more?.remove();
    e.more = null;
    e.moreOf = more;
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
    const root = c.parent === null ? undefined : this.asleep.get(c.parent);
    const s = root === undefined ? undefined : this.sleepers.get(root);
    if (s) return s.li.getBoundingClientRect().bottom + scrollY;
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
    this.sleepers.clear();
    this.asleep.clear();
    this.awake.clear();
    this.root.replaceChildren();
  }

  /** Sleep what is far from the view and wake what is near it (a long thread only; see the top). */
  settle(view: { top: number; bottom: number }): void {
    if (this.size <= WINDOW_FROM && !this.sleepers.size) return;
    const screen = Math.max(400, view.bottom - view.top);
    const near = { top: view.top - NEAR * screen, bottom: view.bottom + NEAR * screen };
    const far = { top: view.top - FAR * screen, bottom: view.bottom + FAR * screen };
    const y = scrollY;
    // Reads first, then writes: a read after a write would lay the page out again each time.
    const waking: number[] = [];
    for (const [id, s] of this.sleepers) {
      const r = s.li.getBoundingClientRect();
      if (r.bottom + y > near.top && r.top + y < near.bottom) waking.push(id);
    }
    const sleeping: [number, number][] = [];
    if (this.size > WINDOW_FROM) {
      for (const id of this.awake) {
        const li = this.entries.get(id)!.li;
        const r = li.getBoundingClientRect();
        if ((r.bottom + y < far.top || r.top + y > far.bottom) && !li.contains(document.activeElement) &&
            !li.matches(IN_USE) && !li.querySelector(IN_USE)) sleeping.push([id, r.height]);
      }
    }
    waking.forEach((id) => this.wake(id));
    sleeping.forEach(([id, height]) => this.sleep(id, height));
  }

  private sleep(root: number, height: number): void {
    const e = this.entries.get(root)!;
    const ids = [root, ...Array.from(e.li.querySelectorAll<HTMLElement>("li[data-id]"), (li) => Number(li.dataset.id))];
    const comments = ids.map((id) => this.entries.get(id)?.c).filter((c): c is Comment => !!c);
    const li = h("li", { class: "rj-item rj-asleep", "data-id": root });
    li.style.height = `${height}px`;
    for (const c of comments) {
      this.entries.delete(c.id);
      this.asleep.set(c.id, root);
    }
    this.sleepers.set(root, { li, comments, more: e.moreOf, height });
    this.awake.delete(root);
    e.li.replaceWith(li);
  }

  private wake(root: number): void {
    const s = this.sleepers.get(root);
    if (!s) return;
    // Drawn before they leave the sleeping maps: "in reply to" looks up names among them.
    const [first, ...replies] = s.comments;
    const li = this.draw(first);
    // Drawn off screen, the browser skips it at its estimated size until it is near: the height it
    // had keeps what is below from moving meanwhile.
    li.style.containIntrinsicSize = `auto ${s.height}px`;
    s.li.replaceWith(li);
    for (const c of replies) {
      const into = this.container(c.parent);
      if (into) into.insertBefore(this.draw(c), this.nextSibling(into, c));
    }
    this.sleepers.delete(root);
    s.comments.forEach((c) => this.asleep.delete(c.id));
    if (s.more) this.setMoreReplies(root, s.more.left, s.more.cursor);
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
