// The thread's live events over one websocket, resumed from the last event
// seen after any disconnect, so a reader misses nothing and sees nothing twice.
//
// Protocol (server/rejoinder/live/socket.py): open
// /api/threads/{tid}/live?since=<seq>&epoch=<epoch>, send
// {"type":"hello","client":..,"token":..}; the server replays what was missed
// and sends {"type":"ready","head":N}, or {"type":"resync"} when its log no
// longer reaches back that far (we refetch the thread, then reconnect).

import type { Comment } from "./types";

export type LiveEvent =
  | { type: "comment.created"; seq: number; comment: Comment; count: number }
  | { type: "comment.edited"; seq: number; comment: Comment }
  | { type: "comment.deleted"; seq: number; comment: Comment; count: number }
  | { type: "like.changed"; seq: number; target: string; likes: number }
  | { type: "count.changed"; seq: number; count: number }
  | { type: "thread.locked"; seq: number; locked: boolean }
  // An admin published a held comment: everyone adds it.
  | { type: "comment.approved"; seq: number; comment: Comment; count: number }
  // An admin took a comment down: readers get its id; its author, their own view (still "pending").
  | { type: "comment.hidden"; seq: number; id: number; comment?: Comment; count: number }
  | { type: "thread.pinned"; seq: number; pinned: number | null };

export type LiveState = "connecting" | "live" | "offline";

export interface LiveHooks {
  event(e: LiveEvent): void;
  /** Refetch the thread; resolves to the head and epoch to resume from. */
  resync(): Promise<{ head: number; epoch: string }>;
  state(s: LiveState): void;
}

// Reconnect delays: quick at first (a deploy restarts nodes in a second or
// two), then backing off to spare a server that is down. Jitter spreads out
// the readers of a busy thread so they do not all return at the same instant.
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
// A socket that drops within this long of connecting does not reset the backoff.
const STABLE_MS = 10_000;
const RESUME_NOW = 4000;

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isComment = (v: unknown): v is Comment =>
  typeof v === "object" && v !== null && isNum((v as Comment).id) && typeof (v as Comment).html === "string";

/** The message as a known event, or null: a socket is input like any other. */
export function parseEvent(data: unknown): LiveEvent | { type: "ready"; head: number } | { type: "resync" } | null {
  if (typeof data !== "object" || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type === "ready") return isNum(m.head) ? { type: "ready", head: m.head } : null;
  if (m.type === "resync") return { type: "resync" };
  if (!isNum(m.seq)) return null;
  switch (m.type) {
    case "comment.created":
    case "comment.deleted":
    case "comment.approved":
      return isComment(m.comment) && isNum(m.count) ? (m as unknown as LiveEvent) : null;
    case "comment.hidden":
      if (!isNum(m.count)) return null;
      if (isComment(m.comment)) return { ...(m as unknown as LiveEvent), id: m.comment.id } as LiveEvent;
      return isNum(m.id) ? (m as unknown as LiveEvent) : null;
    case "thread.pinned":
      return m.pinned === null || isNum(m.pinned) ? (m as unknown as LiveEvent) : null;
    case "comment.edited":
      return isComment(m.comment) ? (m as unknown as LiveEvent) : null;
    case "like.changed":
      return typeof m.target === "string" && isNum(m.likes) ? (m as unknown as LiveEvent) : null;
    case "count.changed":
      return isNum(m.count) ? (m as unknown as LiveEvent) : null;
    case "thread.locked":
      return typeof m.locked === "boolean" ? (m as unknown as LiveEvent) : null;
  }
  return null;
}

export class Live {
  private socket: WebSocket | null = null;
  private timer = 0;
  private delay = FIRST_DELAY_MS;
  private openedAt = 0;
  private wasLive = false;
  private stopped = false;

  constructor(
    private readonly tid: string,
    private seq: number,
    private epoch: string,
    private readonly hello: () => { client: string; token: string | null },
    private readonly hooks: LiveHooks,
  ) {
    addEventListener("online", () => this.reconnectNow());
  }

  start(): void {
    this.connect();
  }

  /** Reconnect now, saying hello again (the reader signed in or out). */
  restart(): void {
    const ws = this.socket;
    this.socket = null;
    ws?.close(1000);
    this.delay = FIRST_DELAY_MS;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000);
  }

  private url(): string {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ since: String(this.seq), epoch: this.epoch });
    return `${scheme}//${location.host}/api/threads/${encodeURIComponent(this.tid)}/live?${q.toString()}`;
  }

  private connect(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry();
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      this.openedAt = Date.now();
      // The token goes in the first message, never in the URL (URLs end up in logs).
      ws.send(JSON.stringify({ type: "hello", ...this.hello() }));
    };
    ws.onmessage = (m) => this.receive(ws, m.data);
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (Date.now() - this.openedAt > STABLE_MS) this.delay = FIRST_DELAY_MS;
      if (e.code === RESUME_NOW) this.connect();
      else this.retry();
    };
  }

  private receive(ws: WebSocket, raw: unknown): void {
    let data: unknown;
    try {
      data = JSON.parse(String(raw));
    } catch {
      return;
    }
    const msg = parseEvent(data);
    if (!msg) return;
    if (msg.type === "ready") {
      this.seq = Math.max(this.seq, msg.head);
      this.wasLive = true;
      this.hooks.state("live");
    } else if (msg.type === "resync") {
      this.socket = null;
      ws.close(1000);
      this.hooks.resync().then(({ head, epoch }) => {
        this.seq = head;
        this.epoch = epoch;
        this.connect();
      }, () => this.retry());
    } else if (msg.seq > this.seq) {
      // Replays overlap what the REST page already showed: seq numbers dedupe them.
      this.seq = msg.seq;
      this.hooks.event(msg);
    }
  }

  private retry(): void {
    if (this.stopped) return;
    // A widget that was never live (an old server without the endpoint) keeps
    // trying quietly: "offline" would be a false alarm for the reader.
    if (this.wasLive) this.hooks.state("offline");
    const wait = this.delay * (0.75 + Math.random() * 0.5);
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.timer = window.setTimeout(() => this.connect(), wait);
  }

  private reconnectNow(): void {
    if (!this.socket && !this.stopped) {
      this.delay = FIRST_DELAY_MS;
      this.connect();
    }
  }
}
