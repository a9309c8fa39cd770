// The API's JSON shapes as the widget reads them (server/rejoinder/models.py).

export interface Author {
  name: string;
  website: string | null;
  avatar: string | null;
  provider: string | null;
  profile: string | null;
}

export interface Comment {
  id: number;
  parent: number | null;
  reply_to: number | null;
  depth: number;
  status: "approved" | "pending" | "deleted";
  created: string;
  edited: string | null;
  author: Author | null;
  /** Server-sanitised HTML: the only markup the widget ever inserts. */
  html: string;
  likes: number;
  liked: boolean;
  /** A reply brought in from Mastodon or Bluesky: where, and a link to the original. */
  remote?: { via: "mastodon" | "bluesky"; url: string | null } | null;
  // Only on the reader's own comments:
  mine?: boolean;
  text?: string;
  email?: string | null;
  editable_until?: string | null;
}

export interface Thread {
  id: string;
  site: string;
  page: string;
  url: string | null;
  title: string;
  count: number;
  likes: number;
  /** Whether this reader liked the post; older servers omit it. */
  liked?: boolean;
  locked: boolean;
  /** The top-level comment an admin pinned (it leads the first page); older servers omit it. */
  pinned?: number | null;
  head: number;
  epoch: string;
  /** The post's likes and boosts/reposts on Mastodon and Bluesky, with a link to it there. */
  remote?: RemoteCounts | null;
}

export interface RemoteCount { likes: number; boosts?: number; reposts?: number; url: string }
export type RemoteCounts = { mastodon?: RemoteCount; bluesky?: RemoteCount };

export interface Me {
  kind: "guest" | "user";
  name?: string;
  avatar?: string | null;
  provider?: string;
  profile?: string | null;
  /** Only ever the reader's own address; null when their provider gave none, or the session is the page's. */
  email?: string | null;
  /** Whether the account has an address (true even when it is not shown). */
  has_email?: boolean;
  /** Where the session is kept: the frame's own storage, or the blog page's. */
  kept?: "frame" | "page";
}

export interface Handover {
  token: string;
  me: Me;
}

export interface ThreadPage {
  thread: Thread;
  comments: Comment[];
  replies: Record<string, { left: number; cursor: string }>;
  next: string | null;
  me: Me;
}

/** GET /api/threads: the first page, with the site's public settings (older servers omit them). */
export interface FirstPage extends ThreadPage {
  site?: Site;
}

export interface RepliesPage {
  comments: Comment[];
  next: string | null;
}

export interface Provider {
  id: string;
  name: string;
}

export interface Site {
  id: string;
  name: string;
  moderation: string;
  /** Social login providers the server has configured. */
  providers?: Provider[];
  /** Whether guests' comments need a proof of work (solved while they type: pow.ts). */
  pow?: boolean;
  /** Whether the site sends "new comment" emails, once notifications land. */
  notifications?: boolean;
  /** The emoji readers may react with ([] or absent: no reactions). */
  reactions?: string[];
  /** Whether readers see "someone is replying…" (the widget says when its reader types). */
  typing?: boolean;
}

export interface Created {
  comment: Comment;
  thread: { id: string; count: number };
  edit_token?: string;
}

export interface Liked {
  target: string;
  likes: number;
  liked: boolean;
}

/** How top-level comments are sorted: by time either way, or most liked first. Replies stay under their parents. */
export type Order = "oldest" | "newest" | "best";
export const ORDERS: readonly Order[] = ["oldest", "newest", "best"];
