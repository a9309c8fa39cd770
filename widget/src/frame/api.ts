// The HTTP API as the iframe uses it. Same origin as the server, so no CORS;
// identity travels in headers (client id, later a bearer token), never in URLs.

import type { Comment, Created, Handover, Liked, Order, RepliesPage, Site, ThreadPage } from "./types";

/** A refusal from the server ({"error": {...}}) or a network failure (code "network"). */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status: number, readonly field?: string) {
    super(message);
  }
}

export interface Session {
  clientId: string;
  /** Bearer token of a signed-in reader (login issue); null for guests. */
  token: string | null;
}

const enc = encodeURIComponent;

export class Api {
  constructor(private readonly session: Session) {}

  private async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const h: Record<string, string> = { "X-Rejoinder-Client": this.session.clientId, ...headers };
    if (this.session.token) h.Authorization = "Bearer " + this.session.token;
    if (body !== undefined) h["Content-Type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: h,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      throw new ApiError("network", "", 0);
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const e = data && typeof data === "object" ? (data as { error?: Record<string, unknown> }).error : null;
      const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
      throw new ApiError(str(e?.code) || "http_" + response.status, str(e?.message) || response.statusText,
        response.status, str(e?.field));
    }
    return data as T;
  }

  /** A proof-of-work challenge for a guest's next comment (sites that ask for one: pow.ts). */
  challenge(site: string): Promise<{ challenge: import("./pow").Challenge }> {
    return this.call("GET", `/api/sites/${enc(site)}/challenge`);
  }

  site(site: string): Promise<{ site: Site }> {
    return this.call("GET", `/api/sites/${enc(site)}`);
  }

  openThread(q: { site: string; page: string; title: string; url: string; mastodon?: string; bluesky?: string },
    order: Order = "oldest"): Promise<ThreadPage> {
    const params = new URLSearchParams({ site: q.site, page: q.page, title: q.title });
    if (q.url) params.set("url", q.url);
    if (q.mastodon) params.set("mastodon", q.mastodon);
    if (q.bluesky) params.set("bluesky", q.bluesky);
    if (order !== "oldest") params.set("order", order);
    return this.call("GET", "/api/threads?" + params.toString());
  }

  morePage(tid: string, cursor: string, order: Order = "oldest"): Promise<ThreadPage> {
    return this.call("GET", `/api/threads/${enc(tid)}?cursor=${enc(cursor)}&order=${order}`);
  }

  replies(tid: string, root: number, cursor: string): Promise<RepliesPage> {
    return this.call("GET", `/api/threads/${enc(tid)}/comments/${root}/replies?cursor=${enc(cursor)}`);
  }

  create(tid: string, body: Record<string, unknown>, idempotencyKey: string): Promise<Created> {
    return this.call("POST", `/api/threads/${enc(tid)}/comments`, body, { "Idempotency-Key": idempotencyKey });
  }

  edit(tid: string, cid: number, text: string, editToken: string | null): Promise<{ comment: Comment }> {
    return this.call("PATCH", `/api/threads/${enc(tid)}/comments/${cid}`, { text }, editHeader(editToken));
  }

  remove(tid: string, cid: number, editToken: string | null): Promise<{ comment: Comment; thread: { count: number } }> {
    return this.call("DELETE", `/api/threads/${enc(tid)}/comments/${cid}`, undefined, editHeader(editToken));
  }

  /**
   * Collect the session of a login this iframe started (secret), once: with the code the
   * popup handed us, or by the secret alone once the reader confirmed in the popup.
   * keep "page": the session will sit in the blog page's storage (see storage.ts).
   */
  handover(secret: string, code: string | null, keep: "frame" | "page"): Promise<Handover> {
    return this.call("POST", "/api/auth/handover", code ? { secret, code, keep } : { secret, keep });
  }

  /** This reader is typing in the thread (sites that show "someone is replying"). */
  typing(tid: string): Promise<unknown> {
    return this.call("POST", `/api/threads/${enc(tid)}/typing`);
  }

  /** Every comment's reaction counts, and this reader's own ("cid|emoji"). */
  reactions(tid: string): Promise<{ reactions: Record<string, Record<string, number>>; mine: string[] }> {
    return this.call("GET", `/api/threads/${enc(tid)}/reactions`);
  }

  /** React to a comment with one of the site's emoji, or take it back. */
  react(tid: string, cid: number, emoji: string, on: boolean): Promise<{ count: number; reacted: boolean }> {
    return this.call(on ? "PUT" : "DELETE", `/api/threads/${enc(tid)}/comments/${cid}/reactions?emoji=${enc(emoji)}`);
  }

  /** Report a comment to the site's moderators (one report per reader). */
  report(tid: string, cid: number, reason: string): Promise<{ reported: boolean }> {
    return this.call("POST", `/api/threads/${enc(tid)}/comments/${cid}/report`, { reason });
  }

  /** Trade the blog's signed sign-in of its member for a session of this site (once per token). */
  sso(site: string, token: string, keep: "frame" | "page"): Promise<Handover> {
    return this.call("POST", "/api/auth/sso", { site, token, keep });
  }

  /** Everything held about the signed-in reader on the site (JSON). */
  myData(site: string): Promise<unknown> {
    return this.call("GET", `/api/auth/me/data?site=${enc(site)}`);
  }

  /** Leave for the passkey popup to add a passkey to this reader's account (handed to it by postMessage). */
  passkeyTicket(site: string): Promise<{ ticket: string }> {
    return this.call("POST", `/api/auth/passkeys/ticket?site=${enc(site)}`);
  }

  /** The signed-in reader's passkeys (when added and last used). */
  passkeys(site: string): Promise<{ passkeys: { id: string; created: string; used: string | null }[] }> {
    return this.call("GET", `/api/auth/passkeys?site=${enc(site)}`);
  }

  removePasskey(site: string, id: string): Promise<unknown> {
    return this.call("DELETE", `/api/auth/passkeys/${enc(id)}?site=${enc(site)}`);
  }

  /** Delete the signed-in reader's account and their comments on the site. */
  deleteMe(site: string): Promise<{ deleted: Record<string, number> }> {
    return this.call("DELETE", `/api/auth/me?site=${enc(site)}`, { confirm: true });
  }

  logout(everywhere = false): Promise<unknown> {
    return this.call("POST", "/api/auth/logout", everywhere ? { everywhere } : undefined);
  }

  /** Like or unlike a comment (target = its id) or the post (target = "post"). */
  like(tid: string, target: number | "post", on: boolean): Promise<Liked> {
    const path = target === "post" ? `/api/threads/${enc(tid)}/like` : `/api/threads/${enc(tid)}/comments/${target}/like`;
    return this.call(on ? "PUT" : "DELETE", path);
  }
}

function editHeader(token: string | null): Record<string, string> {
  return token ? { "X-Rejoinder-Edit-Token": token } : {};
}
