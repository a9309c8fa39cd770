// Where a comment that arrives live goes, without pulling the page from under
// the reader:
// - it lands in view: insert it, highlighted, and announce it;
// - it lands below the view: insert it (nothing visible moves) and offer the
//   "N new comments" button to go there;
// - it lands above the view: inserting would push what they are reading down,
//   so hold it and offer the button, which inserts and goes there.

import type { Ctx } from "./context";
import type { Comment } from "./types";
import { NewBar } from "./views/newbar";

export class Arrivals {
  readonly bar: NewBar;
  private held: Comment[] = [];
  private unseen = new Set<number>();

  constructor(private readonly ctx: Ctx) {
    this.bar = new NewBar(ctx.i18n, ctx.host, () => this.reveal());
    ctx.host.onViewChange(() => this.markSeen());
  }

  arrive(c: Comment): void {
    const { list, host } = this.ctx;
    if (list.get(c.id)) {
      list.upsert(c, true);
      return;
    }
    if (this.held.some((h) => h.id === c.id)) return;
    const y = list.landingY(c);
    if (y === null) return; // under a comment that is not loaded: the count still moves
    const view = host.visible();
    if (view && y < view.top) {
      this.held.push(c);
      this.update();
      return;
    }
    if (list.upsert(c) !== "added") return;
    list.item(c.id)?.classList.add("rj-new");
    if (view && y > view.bottom) this.unseen.add(c.id);
    this.update();
    this.ctx.announcer.say(this.ctx.i18n.t("announceNew", { name: c.author?.name || this.ctx.i18n.t("anonymous") }));
  }

  /** Insert what was held and bring the first new comment into view. */
  private reveal(): void {
    const { list, host } = this.ctx;
    const ids = [...this.held.map((c) => c.id), ...this.unseen];
    this.held.forEach((c) => {
      if (list.upsert(c) === "added") list.item(c.id)?.classList.add("rj-new");
    });
    this.held = [];
    this.unseen.clear();
    this.update();
    const items = ids.map((id) => list.item(id)).filter((li): li is HTMLLIElement => !!li);
    const tops = items.map((li) => li.getBoundingClientRect().top + scrollY);
    const first = items[tops.indexOf(Math.min(...tops))];
    if (!first) return;
    host.scrollTo(first.getBoundingClientRect().top + scrollY);
    first.querySelector<HTMLElement>("article")?.focus({ preventScroll: true });
  }

  private markSeen(): void {
    const view = this.ctx.host.visible();
    if (!view || !this.unseen.size) return;
    for (const id of this.unseen) {
      const li = this.ctx.list.whereIs(id);
      const top = li ? li.getBoundingClientRect().top + scrollY : -1;
      if (!li || (top >= view.top && top < view.bottom)) this.unseen.delete(id);
    }
    this.update();
  }

  private update(): void {
    this.bar.show(this.held.length + this.unseen.size);
  }
}
