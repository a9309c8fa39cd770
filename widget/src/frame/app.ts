// The iframe app: load the thread, lay out the section, page through big
// threads, and apply live events. Writing (compose.ts), reacting (actions.ts)
// and placing arrivals (arrivals.ts) live in their own files.

import { Actions } from "./actions";
import { Api, ApiError, type Session } from "./api";
import { Arrivals } from "./arrivals";
import { Compose } from "./compose";
import type { Ctx } from "./context";
import { h, on } from "./dom";
import { dropAhead, parseAhead } from "./html";
import type { Host } from "./host";
import type { I18n } from "./i18n";
import { Live, type LiveEvent } from "./live";
import type { Params } from "./params";
import { addPasskey, Login } from "./login";
import { signIn, signOut } from "./session";
import { ownStorage, read, write } from "./storage";
import { tokenFor } from "./tokens";
import { ORDERS, type Comment, type FirstPage, type Me, type Order, type Site, type ThreadPage } from "./types";
import { Announcer } from "./views/announcer";
import { commentArticle } from "./views/comment";
import { Header } from "./views/header";
import { PasskeyPanel } from "./views/passkeys";
import { providerName } from "./views/form";
import { CommentList } from "./views/list";

// Relative times ("3 minutes ago") and edit windows are refreshed this often.
const TICK_MS = 30_000;
// The first page is built and inserted in one go, then laid out once: 200
// comments take about 45 ms to build and 80 ms to lay out on the 2-core test
// machine (bench/widget_load.py).
// A much bigger page (up to 50 top-level comments with 100 replies each) goes
// on in slices between tasks, so the page never stalls on one long task (an
// iframe on the blog's own site shares the blog page's main thread).
const FIRST_SLICE = 300;
const SLICE = 150;
// Pages fetched while the reader scrolls: smaller slices, so no frame waits on one.
const MORE_SLICE = 40;
const TIME_SLICE = 500;
// How often, at most, a long thread looks at what to sleep and wake as the reader scrolls (a fast
// reader covers about a screen in that time; comments wake three screens ahead).
const SETTLE_MS = 150;

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
// After the comments are painted, for work that can wait (no requestIdleCallback in Safari).
const whenIdle = (f: () => void): void => {
  if ("requestIdleCallback" in window) requestIdleCallback(f, { timeout: 1000 });
  else setTimeout(f, 200);
};

/** The thread's first page; a session the server no longer knows is dropped and the reader goes on as a guest. */
async function firstPage(api: Api, params: Params, session: Session, order: Order): Promise<FirstPage> {
  try {
    return await api.openThread(params, order);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === "invalid_session" && session.token)) throw e;
    signOut(session);
    return api.openThread(params, order);
  }
}

/** The order this reader chose on this site before (kept in storage), else oldest first. */
const orderKey = (site: string): string => "rj:order:" + site;
function savedOrder(site: string): Order {
  const saved = read<string>(orderKey(site));
  return (ORDERS as readonly string[]).includes(saved || "") ? (saved as Order) : "oldest";
}

/**
 * Show the thread and keep it live. `embedded` is the first page as anyone sees
 * it, from the frame document, so there is nothing to wait for; `known` resolves
 * once the session is read from storage, true if the reader has been here
 * before (then their own view, with their likes and pending comments, is
 * fetched and merged in after the comments show).
 */
export async function startApp(params: Params, i18n: I18n, api: Api, host: Host, session: Session,
  known: Promise<boolean>, embedded: FirstPage | null): Promise<void> {
  const main = h("main", { class: "rj", "aria-labelledby": "rj-title" }, h("p", { class: "rj-muted" }, i18n.t("loading")));
  document.body.append(main);

  let page: FirstPage;
  let site: Site | null;
  // The frame document holds the first page oldest first: a reader who chose another order
  // waits for theirs instead.
  let order = savedOrder(params.site);
  if (order !== "oldest") embedded = null;
  try {
    if (!embedded) await known;
    page = embedded || await firstPage(api, params, session, order);
    site = page.site || await api.site(params.site).then((r) => r.site, () => null);
  } catch (e) {
    const retry = h("button", { type: "button", class: "rj-button" }, i18n.t("retry"));
    on(retry, "click", () => location.reload());
    main.replaceChildren(h("p", { class: "rj-error", role: "alert" }, i18n.t("loadError"), " ",
      e instanceof Error && e.message ? e.message : ""), retry);
    host.startSizing();
    return;
  }

  // User Timing marks: bench/widget_load.py reads them to split load time into parts.
  performance.mark("rejoinder:fetched");
  let live: Live | null = null;
  const header = new Header(i18n, page.thread.title || params.title, page.thread.id, order);
  const ctx: Ctx = {
    params, i18n, api, host, site,
    thread: page.thread,
    me: page.me,
    header,
    announcer: new Announcer(),
    list: new CommentList((c) => render(c), i18n),
    redrawAll: () => ctx.list.all().forEach((c) => ctx.list.refresh(c.id)),
    leaving: (id) => compose.leaving(id),
    setCount: (n) => {
      ctx.thread.count = n;
      header.setCount(n);
    },
  };
  let images = false;
  const emoji = site?.reactions ?? [];
  const render = (c: Comment): HTMLElement => commentArticle(c, {
    i18n,
    images,
    now: Date.now(),
    locked: ctx.thread.locked,
    nameOf: (id) => ctx.list.get(id)?.author?.name ?? null,
    canEdit: (x) => !!x.mine && x.status !== "deleted" && !!x.editable_until && Date.parse(x.editable_until) > Date.now()
      && (ctx.me.kind === "user" || !!tokenFor(ctx.thread.id, x.id)),
    reported: (id) => actions.reported.has(id),
    emoji,
    reactionsOf: (id) => actions.reactions.get(id),
    reactedWith: (id, e) => actions.reacted.has(`${id}|${e}`),
    canDelete: (x) => !!x.mine && x.status !== "deleted" && (ctx.me.kind === "user"
      || (!!x.editable_until && Date.parse(x.editable_until) > Date.now() && !!tokenFor(ctx.thread.id, x.id))),
  });

  const actions = new Actions(ctx);
  const arrivals = new Arrivals(ctx);
  // A new identity changes what the page shows: own comments, likes, the form.
  const becomes = async (me: Me): Promise<void> => {
    ctx.me = me;
    compose.form.setMe(me);
    live?.restart();
    try {
      const p = await api.openThread(params, order);
      addPage(p);
      actions.postLikes(p.thread.likes, p.thread.liked);
    } catch {
      // the page keeps what it shows; the next live event or reload corrects it
    }
  };
  const login = new Login(api, params.site, {
    signedIn: ({ token, me }) => {
      signIn(session, token);
      ctx.announcer.say(i18n.t("signedIn", { provider: providerName(site, me.provider) }));
      void becomes(me);
    },
    failed: (message) => ctx.announcer.say(message || i18n.t("loginFailed")),
  });
  // Built first, as it does not need the reader's identity: the comments.
  header.setCount(ctx.thread.count);
  header.setLikes(ctx.thread.likes, !!ctx.thread.liked);
  header.setRemote(ctx.thread.remote);
  let built = 0;
  const build = (n: number): void => {
    const end = Math.min(built + n, page.comments.length);
    parseAhead(page.comments.slice(built, end).map((c) => c.html));
    for (; built < end; built++) ctx.list.merge(page.comments[built]);
    dropAhead();
  };
  ctx.list.pinned = ctx.thread.pinned ?? null;  // before the first comment is placed
  ctx.list.order = order;
  build(FIRST_SLICE);

  const compose = new Compose(ctx, {
    logIn: (provider) => login.start(provider),
    logOut: async (everywhere = false) => {
      // Revoke if we can (the request takes the token now), forget it either way, and at once: a slow or
      // lost answer must not leave the reader looking signed in.
      const revoking = api.logout(everywhere).catch(() => undefined);
      signOut(session);
      await becomes({ kind: "guest" });
      await revoking;
    },
    myData: () => {
      api.myData(params.site).then((data) => {
        const link = h("a", { href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)],
          { type: "application/json" })), download: `rejoinder-${params.site}-my-data.json` });
        document.body.append(link);
        link.click();
        link.remove();
        ctx.announcer.say(i18n.t("myDataReady"));
      }, (e) => ctx.announcer.say(e instanceof Error && e.message ? e.message : i18n.t("networkError")));
    },
    passkeys: new PasskeyPanel(api, params.site, i18n, {
      add: (done) => addPasskey(api, params.site, (outcome) => {
        ctx.announcer.say(outcome === "added" ? i18n.t("passkeyAdded") : outcome || i18n.t("loginFailed"));
        if (outcome === "added") done();
      }),
      say: (message) => ctx.announcer.say(message),
    }),
    deleteMe: (button) => {
      // Two clicks: the first asks, the second (within a few seconds) deletes.
      if (button.dataset.armed !== "1") {
        button.dataset.armed = "1";
        button.textContent = i18n.t("deleteMeConfirm");
        setTimeout(() => { delete button.dataset.armed; button.textContent = i18n.t("deleteMe"); }, 6000);
        return;
      }
      button.disabled = true;
      api.deleteMe(params.site).then(async () => {
        signOut(session);
        ctx.announcer.say(i18n.t("deletedMe"));
        await becomes({ kind: "guest" });
      }, (e) => {
        button.disabled = false;
        ctx.announcer.say(e instanceof Error && e.message ? e.message : i18n.t("networkError"));
      });
    },
  });

  let next = page.next;
  const replyLeft = new Map<number, number>();
  const more = h("button", { type: "button", class: "rj-button rj-loadmore", hidden: !next }, i18n.t("loadMore"));

  const addPage = (p: ThreadPage | { comments: Comment[]; replies?: ThreadPage["replies"] }): void => {
    p.comments.forEach((c) => ctx.list.merge(c));
    for (const [root, r] of Object.entries(p.replies || {})) {
      replyLeft.set(Number(root), r.left);
      ctx.list.setMoreReplies(Number(root), r.left, r.cursor);
    }
  };

  // The next page of top-level comments. A reader who scrolls towards the end gets it
  // before they arrive (a 10,000-comment thread reads as one list); the button stays for
  // keyboards and for readers who stop there.
  let loading = false;
  const loadMore = async (byHand: boolean): Promise<void> => {
    if (!next || loading) return;
    loading = true;
    more.disabled = true;
    try {
      const p = await api.morePage(ctx.thread.id, next, order);
      const before = byHand ? new Set(ctx.list.all().map((c) => c.id)) : null;
      // A long thread: far-off comments are neither laid out nor painted (frame.css, .rj-long).
      ctx.list.root.classList.add("rj-long");
      // In slices, one task each: the reader scrolling meanwhile never waits for a whole page.
      for (let i = 0; i < p.comments.length; i += MORE_SLICE) {
        if (i) await nextTask();
        const slice = p.comments.slice(i, i + MORE_SLICE);
        parseAhead(slice.map((c) => c.html));
        slice.forEach((c) => ctx.list.merge(c));
        dropAhead();
      }
      addPage({ comments: [], replies: p.replies });
      next = p.next;
      // Keyboard users continue at the first comment they had not seen.
      const first = before && p.comments.find((c) => !before.has(c.id));
      if (first) ctx.list.item(first.id)?.querySelector<HTMLElement>("article")?.focus({ preventScroll: true });
    } catch (e) {
      if (byHand) ctx.announcer.say(e instanceof Error && e.message ? e.message : i18n.t("networkError"));
      else autoLoad = false; // trouble: leave it to the button from here
    }
    loading = false;
    more.disabled = false;
    more.hidden = !next;
    if (!byHand) nearTheEnd();
  };
  on(more, "click", () => void loadMore(true));
  let autoLoad = false; // on once the first page is all built
  const nearTheEnd = (): void => {
    const view = host.visible();
    if (!autoLoad || !next || loading || more.hidden || !view) return;
    const at = more.getBoundingClientRect().top + scrollY;
    // Two screens ahead: the page is there before the reader is.
    if (at - view.bottom < 2 * Math.max(400, view.bottom - view.top)) void loadMore(false);
  };
  host.onViewChange(nearTheEnd);
  // A very long thread sleeps what is far from the reader (views/list.ts): looked at as they scroll.
  let settling = 0;
  const settle = (): void => {
    if (settling) return;
    settling = window.setTimeout(() => {
      settling = 0;
      const view = host.visible();
      if (view) ctx.list.settle(view);
    }, SETTLE_MS);
  };
  host.onViewChange(settle);

  const moreReplies = async (root: number, button: HTMLElement): Promise<void> => {
    const cursor = button.dataset.cursor;
    if (!cursor) return;
    (button as HTMLButtonElement).disabled = true;
    try {
      const r = await api.replies(ctx.thread.id, root, cursor);
      const fresh = r.comments.filter((c) => !ctx.list.get(c.id));
      addPage(r);
      const left = Math.max(0, (replyLeft.get(root) || 0) - r.comments.length);
      replyLeft.set(root, left);
      ctx.list.setMoreReplies(root, r.next ? Math.max(left, 1) : 0, r.next);
      if (fresh[0]) ctx.list.item(fresh[0].id)?.querySelector<HTMLElement>("article")?.focus({ preventScroll: true });
    } catch (e) {
      (button as HTMLButtonElement).disabled = false;
      ctx.announcer.say(e instanceof Error && e.message ? e.message : i18n.t("networkError"));
    }
  };

  on(ctx.list.root, "click", (event) => {
    const button = (event.target as Element).closest<HTMLElement>("[data-action]");
    const li = button?.closest<HTMLElement>("li[data-id]");
    if (!button || !li) return;
    const id = Number(li.dataset.id);
    switch (button.dataset.action) {
      case "like": void actions.likeComment(id); break;
      case "reply": compose.replyTo(id, true); break;
      case "edit": actions.edit(id); break;
      case "delete": void actions.remove(id, button); break;
      case "report": actions.report(id, button); break;
      case "react": void actions.react(id, button.dataset.emoji || ""); break;
      case "react-pick": actions.pickReaction(button, emoji); break;
      case "more-replies": void moreReplies(id, button); break;
    }
  });
  on(header.likeButton, "click", () => void actions.likePost());
  // Another order: remembered for this site, and the thread loaded again in it from the top.
  const reorder = async (chosen: Order): Promise<void> => {
    if (chosen === order || !(ORDERS as readonly string[]).includes(chosen)) return;
    order = chosen;
    header.sort.value = order;
    header.sort.disabled = true;
    try {
      const p = await api.openThread(params, order);
      ctx.list.clear();
      ctx.list.order = order;
      replyLeft.clear();
      Object.assign(ctx.thread, p.thread);
      ctx.setCount(p.thread.count);
      addPage(p);
      next = p.next;
      more.hidden = !next;
      host.reportHeight();
    } catch (e) {
      ctx.announcer.say(e instanceof Error && e.message ? e.message : i18n.t("networkError"));
    }
    header.sort.disabled = false;
  };
  on(header.sort, "change", () => {
    write(orderKey(params.site), header.sort.value);
    void reorder(header.sort.value as Order);
  });

  more.hidden = true;
  // One insertion into the document, then one layout, when the height is measured.
  main.replaceChildren(header.el, ctx.list.root, more, compose.home, arrivals.bar.el, ctx.announcer.el);
  performance.mark("rejoinder:visible");
  host.startSizing();
  performance.mark("rejoinder:sized");
  // Chrome sends a message to another process's window once the current task
  // ends: end it here, so the loader unhides the comments before the rest runs.
  await nextTask();
  images = true;
  document.querySelectorAll<HTMLImageElement>("img[data-src]").forEach((img) => {
    img.src = img.dataset.src || "";
    delete img.dataset.src;
  });
  while (built < page.comments.length) {
    await nextTask();
    build(SLICE);
    // Reported at once, not left to the ResizeObserver: Chrome pauses rendering
    // work in an off-screen cross-origin iframe, and the host page must grow now,
    // while the reader is elsewhere, not later under their eyes.
    host.reportHeight();
  }
  addPage({ comments: [], replies: page.replies });
  more.hidden = !next;
  host.reportHeight();
  performance.mark("rejoinder:rendered");
  autoLoad = true;
  nearTheEnd();
  const returning = await known;
  compose.restoreDraft();
  // The blog's own member: signed in by the blog, no second sign-in. Each token works once: a page
  // reloaded with the same one keeps the session it gave (its signature is remembered, not re-sent).
  const ssoMark = params.sso.slice(-24);
  if (params.sso && read<string>("rj:sso") !== ssoMark) {
    api.sso(params.site, params.sso, ownStorage ? "frame" : "page").then(({ token, me }) => {
      write("rj:sso", ssoMark);
      signIn(session, token);
      void becomes(me);
    }, () => undefined);
  }
  if (emoji.length) {
    // Reactions come after the comments: one small request, then only the comments that have some redraw.
    api.reactions(ctx.thread.id).then((r) => {
      r.mine.forEach((k) => actions.reacted.add(k));
      for (const [id, counts] of Object.entries(r.reactions)) {
        actions.reactions.set(Number(id), counts);
        ctx.list.refresh(Number(id));
      }
    }, () => undefined);
  }
  // Where the frame has no storage of its own, the order the reader chose came with the rest of
  // what the blog page keeps for us, just now.
  if (savedOrder(params.site) !== order) await reorder(savedOrder(params.site));
  whenIdle(() => {
    i18n.loadExact();
    document.querySelectorAll<HTMLElement>("[data-exact]").forEach((el) => {
      el.title = i18n.exact(new Date(el.dataset.exact || "")) || "";
      delete el.dataset.exact;
    });
  });

  if (embedded && returning) {
    // The reader's own view: their likes, their comments awaiting moderation,
    // what they may still edit, who they are signed in as. Only what differs
    // from the public page is redrawn.
    try {
      const p = await firstPage(api, params, session, order);
      if (JSON.stringify(p.me) !== JSON.stringify(ctx.me)) {
        ctx.me = p.me;
        compose.form.setMe(p.me);
      }
      Object.assign(ctx.thread, p.thread);
      ctx.setCount(p.thread.count);
      actions.postLikes(p.thread.likes, p.thread.liked);
      addPage(p);
      next = p.next;
      more.hidden = !next;
    } catch {
      // the public view stays; the next live event or a reload brings the rest
    }
  }

  const apply = (e: LiveEvent): void => {
    switch (e.type) {
      case "comment.created":
      case "comment.approved":
        ctx.setCount(e.count);
        compose.whenIdle(() => arrivals.arrive(e.comment));
        break;
      case "comment.hidden":
        ctx.setCount(e.count);
        if (e.comment?.mine) {
          ctx.list.upsert(e.comment, true);
        } else {
          ctx.leaving(e.id);
          ctx.list.remove(e.id);
        }
        break;
      case "thread.pinned":
        // The pinned comment leads the thread from the next load; moving it under
        // a reader's eyes would pull the page from under them.
        ctx.thread.pinned = e.pinned;
        ctx.list.pinned = e.pinned;
        break;
      case "comment.edited":
        if (ctx.list.get(e.comment.id)) ctx.list.upsert(e.comment, true);
        break;
      case "comment.deleted":
        ctx.setCount(e.count);
        ctx.leaving(e.comment.id);
        ctx.list.removeOrMark(e.comment);
        break;
      case "reaction.changed":
        actions.setReactions(e.target, e.emoji, e.count);
        break;
      case "like.changed":
        if (e.target === "post") actions.postLikes(e.likes);
        else ctx.list.setLikes(Number(e.target), e.likes);
        break;
      case "count.changed":
        ctx.setCount(e.count);
        break;
      case "thread.locked":
        ctx.thread.locked = e.locked;
        compose.setLocked(e.locked);
        ctx.redrawAll();
        break;
      case "thread.remote":
        ctx.thread.remote = e.remote;
        header.setRemote(e.remote);
        break;
      case "thread.moved":
        // Opening this page again leads to the thread that has its comments now (a draft is kept
        // in storage by page, so it survives).
        live?.stop();
        location.reload();
        break;
    }
  };

  live = new Live(ctx.thread.id, ctx.thread.head, ctx.thread.epoch,
    () => ({ client: session.clientId, token: session.token }), {
    event: apply,
    state: (s) => header.setOnline(s !== "offline"),
    presence: (n) => header.setReaders(n),
    typing: (n) => header.setTyping(n - (compose.typingNow() ? 1 : 0)),
    resync: async () => {
      const p = await api.openThread(params, order);
      Object.assign(ctx.thread, p.thread);
      ctx.setCount(p.thread.count);
      actions.postLikes(p.thread.likes, p.thread.liked);
      addPage(p);
      return { head: p.thread.head, epoch: p.thread.epoch };
    },
  });
  live.start();

  window.setInterval(async () => {
    const now = Date.now();
    // "5 minutes ago" moves on. A long thread has thousands: a slice per task, and only
    // the ones whose words changed are touched (each write makes the browser restyle).
    const times = Array.from(document.querySelectorAll<HTMLTimeElement>("time[datetime]"));
    for (let i = 0; i < times.length; i += TIME_SLICE) {
      if (i) await nextTask();
      for (const t of times.slice(i, i + TIME_SLICE)) {
        // Not in a comment whose rendering the browser skips (far off screen in a long thread,
        // content-visibility: auto): each write there cost a restyle of a part nobody sees, and in a
        // thread of 10,000 the ticks were most of the scroll's long frames. It moves on at a later tick.
        if (typeof t.checkVisibility === "function" && !t.checkVisibility({ contentVisibilityAuto: true })) continue;
        const text = i18n.relative(new Date(t.dateTime), now);
        if (t.textContent !== text) t.textContent = text;
      }
    }
    // An edit window that just closed takes its Edit and Delete buttons with it.
    ctx.list.all().forEach((c) => {
      if (c.editable_until && Date.parse(c.editable_until) <= now && c.mine) {
        ctx.list.refresh(c.id);
        c.editable_until = null;
      }
    });
  }, TICK_MS);
}
