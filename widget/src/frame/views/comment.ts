// One comment as an <article>: avatar, name, time, body, likes and actions.
// Pure: data in, element out. Buttons carry data-action; the app listens once
// on the list (app.ts) instead of wiring every button.

import { h } from "../dom";
import { setCommentHtml } from "../html";
import type { I18n } from "../i18n";
import type { Comment } from "../types";

export interface CommentView {
  i18n: I18n;
  now: number;
  locked: boolean;
  /** The name of another loaded comment's author, for "in reply to". */
  nameOf(id: number): string | null;
  /** Whether the reader may still edit this comment (own, in the window, token kept). */
  canEdit(c: Comment): boolean;
  /** Whether the reader may delete it (a signed-in author always; a guest as for editing). */
  canDelete(c: Comment): boolean;
  /** Whether this reader reported it already (this page view). */
  reported(id: number): boolean;
  /** The site's reaction emoji ([]: none), a comment's counts, and whether this reader gave one. */
  emoji: string[];
  reactionsOf(id: number): Record<string, number> | undefined;
  reactedWith(id: number, emoji: string): boolean;
  /** False while the first page is built: avatars get their URL once the comments
   * show (app.ts), as starting 200 image loads cost about 15% of the build. */
  images: boolean;
}

// Avatars only from our own server: a third-party image would tell that
// party who reads the page (and the frame's CSP would block it anyway).
const OWN_PATH = /^\/(?!\/)/;
const WEB = /^https?:\/\//i;

export function timeEl(iso: string, i18n: I18n, now: number, cls = "rj-time"): HTMLTimeElement {
  const date = new Date(iso);
  return h("time", { class: cls, datetime: iso, ...exactTitle(iso, i18n) }, i18n.relative(date, now));
}

/** The exact time as a hover title, or where to find it once the formatter is loaded (app.ts fills it in). */
function exactTitle(iso: string, i18n: I18n): { title: string } | { "data-exact": string } {
  const exact = i18n.exact(new Date(iso));
  return exact === null ? { "data-exact": iso } : { title: exact };
}

/** The reactions a comment has (one button each, pressed if the reader gave it), and a button to add one. */
function reactionChips(c: Comment, v: CommentView): (HTMLElement | null)[] {
  if (!v.emoji.length || c.status !== "approved") return [];
  const counts = v.reactionsOf(c.id) || {};
  const chips: (HTMLElement | null)[] = v.emoji.filter((e) => (counts[e] || 0) > 0).map((e) =>
    h("button", { type: "button", class: "rj-chip", "data-action": "react", "data-emoji": e,
      "aria-pressed": v.reactedWith(c.id, e) ? "true" : "false",
      "aria-label": v.i18n.t("reactionCount", { n: counts[e], emoji: e }) }, `${e} ${counts[e]}`));
  chips.push(h("button", { type: "button", class: "rj-link rj-addreact", "data-action": "react-pick",
    "aria-expanded": "false" }, v.i18n.t("react")));
  return chips;
}

export function likesText(n: number, i18n: I18n): string {
  return n > 0 ? i18n.t("likedBy", { n }) : "";
}

function avatar(c: Comment, images: boolean): HTMLElement {
  const src = c.author?.avatar;
  if (src && OWN_PATH.test(src)) {
    // loading="lazy" before src: set after it, the image would already be on its way.
    // Its size comes from frame.css, which is loaded before anything shows.
    return h("img", { class: "rj-avatar", loading: "lazy", alt: "", [images ? "src" : "data-src"]: src });
  }
  const initial = (c.author?.name || "?").trim().charAt(0).toUpperCase() || "?";
  return h("span", { class: "rj-avatar rj-initial", "aria-hidden": "true" }, initial);
}

export function commentArticle(c: Comment, v: CommentView): HTMLElement {
  const { i18n } = v;
  const nameId = `rj-n${c.id}`;
  if (c.status === "deleted") {
    return h("article", { class: "rj-card rj-gone", tabindex: -1 }, h("p", { class: "rj-muted" }, i18n.t("deleted")));
  }
  const author = c.author;
  const name = author?.name || i18n.t("anonymous");
  const link = author?.website || author?.profile || "";
  const nameEl = WEB.test(link)
    ? h("a", { class: "rj-name", id: nameId, href: link, rel: "nofollow ugc noopener", target: "_blank" }, name)
    : h("span", { class: "rj-name", id: nameId }, name);
  const replyTo = c.reply_to && c.reply_to !== c.parent ? v.nameOf(c.reply_to) : null;

  const meta = h("div", { class: "rj-meta" },
    nameEl,
    c.mine ? h("span", { class: "rj-you" }, i18n.t("you")) : null,
    replyTo ? h("span", { class: "rj-replyto" }, i18n.t("inReplyTo", { name: replyTo })) : null,
    timeEl(c.created, i18n, v.now),
    c.remote && WEB.test(c.remote.url || "")
      ? h("a", { class: "rj-via", href: c.remote.url!, rel: "nofollow ugc noopener", target: "_blank" },
        i18n.t(c.remote.via === "bluesky" ? "onBluesky" : "onMastodon"))
      : null,
    c.edited ? h("span", { class: "rj-edited", ...exactTitle(c.edited, i18n) }, i18n.t("edited")) : null,
  );

  const body = h("div", { class: "rj-body" });
  setCommentHtml(body, c.html);

  const actions = h("div", { class: "rj-actions" },
    h("button", { type: "button", class: "rj-link rj-like", "data-action": "like", "aria-pressed": c.liked ? "true" : "false" },
      i18n.t("like")),
    h("span", { class: "rj-likes" }, likesText(c.likes, i18n)),
    ...reactionChips(c, v),
    v.locked || c.status !== "approved" ? null
      : h("button", { type: "button", class: "rj-link", "data-action": "reply", "aria-expanded": "false" }, i18n.t("reply")),
    v.canEdit(c) ? h("button", { type: "button", class: "rj-link", "data-action": "edit" }, i18n.t("edit")) : null,
    v.canDelete(c) ? h("button", { type: "button", class: "rj-link", "data-action": "delete" }, i18n.t("delete")) : null,
    c.mine || c.status !== "approved" ? null
      : v.reported(c.id) ? h("span", { class: "rj-muted rj-reported" }, i18n.t("reported"))
      : h("button", { type: "button", class: "rj-link rj-report", "data-action": "report", "aria-expanded": "false" },
        i18n.t("report")),
  );

  return h("article", { class: "rj-card", tabindex: -1, "aria-labelledby": nameId },
    avatar(c, v.images),
    h("div", { class: "rj-main" },
      meta,
      c.status === "pending" ? h("p", { class: "rj-notice" }, i18n.t("pending")) : null,
      body,
      actions,
    ),
  );
}
