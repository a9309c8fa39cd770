// The thread's live events over one websocket, resumed from the last event
// seen after any disconnect, so a reader misses nothing and sees nothing twice.
//
// Protocol (server/rejoinder/live/socket.py): open
// /api/threads/{tid}/live?since=<seq>&epoch=<epoch>, send
// {"type":"hello","client":..,"token":..}; the server replays what was missed
// and sends {"type":"ready","head":N}, or {"type":"resync"} when its log no
// longer reaches back that far (we refetch the thread, then reconnect).
//
// Where websockets are blocked (some corporate proxies and middleboxes refuse the
// upgrade or cut the socket), the same messages come as Server-Sent Events from
// /api/threads/{tid}/stream (server/rejoinder/live/stream.py), read with fetch so
// the session travels in a header, never in the URL. Two sockets in a row that
// never got to "ready" switch to the stream, which is kept while it works (a stream
// that fails too means the server is out of reach: both are tried again).

import type { Comment, RemoteCounts } from "./types";

export type LiveEvent =
  | { type: "comment.created"; seq: number; comment: Comment; count: number }
  | { type: "comment.edited"; seq: number; comment: Comment }
  | { type: "comment.deleted"; seq: number; comment: Comment; count: number }
  | { type: "like.changed"; seq: number; target: string; likes: number }
  | { type: "reaction.changed"; seq: number; target: number; emoji: string; count: number }
  | { type: "count.changed"; seq: number; count: number }
  | { type: "thread.locked"; seq: number; locked: boolean }
  // An admin published a held comment: everyone adds it.
  | { type: "comment.approved"; seq: number; comment: Comment; count: number }
  // An admin took a comment down: readers get its id; its author, their own view (still "pending").
  | { type: "comment.hidden"; seq: number; id: number; comment?: Comment; count: number }
  | { type: "thread.pinned"; seq: number; pinned: number | null }
  // A remap or a merge moved the thread's comments to another thread (to: its id).
  | { type: "thread.moved"; seq: number; to: string }
  | { type: "thread.remote"; seq: number; remote: RemoteCounts | null };

export type LiveState = "connecting" | "live" | "offline";

export interface LiveHooks {
  event(e: LiveEvent): void;
  /** Refetch the thread; resolves to the head and epoch to resume from. */
  resync(): Promise<{ head: number; epoch: string }>;
  state(s: LiveState): void;
  /** How many readers have the thread open now (this one included). */
  presence?(readers: number): void;
  /** How many readers are typing a reply now (this one included, if they are). */
  typing?(readers: number): void;
}

// Reconnect delays: quick at first (a deploy restarts nodes in a second or
// two), then backing off to spare a server that is down. Jitter spreads out
// the readers of a busy thread so they do not all return at the same instant.
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
// A socket that drops within this long of connecting does not reset the backoff.
const STABLE_MS = 10_000;
const RESUME_NOW = 4000;
// Sockets in a row that never reached "ready" before the stream is used instead.
const SOCKET_FAILURES_BEFORE_STREAM = 2;
// A stream's unparsed text is bounded: the server's messages are a few KB.
const MAX_STREAM_BUFFER = 1 << 20;

const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isComment = (v: unknown): v is Comment =>
  typeof v === "object" && v !== null && isNum((v as Comment).id) && typeof (v as Comment).html === "string";

/** The message as a known event, or null: a socket is input like any other. */
export function parseEvent(data: unknown):
  LiveEvent | { type: "ready"; head: number } | { type: "resync" } | { type: "presence"; readers: number }
  | { type: "typing"; readers: number } | null {
  if (typeof data !== "object" || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type === "ready") return isNum(m.head) ? { type: "ready", head: m.head } : null;
  if (m.type === "resync") return { type: "resync" };
  // How many readers have the thread open now (advisory, unnumbered).
  if (m.type === "presence" || m.type === "typing") {
    if (!isNum(m.readers) || m.readers < 0) return null;
    return m.type === "presence" ? { type: "presence", readers: m.readers } : { type: "typing", readers: m.readers };
  }
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
    case "reaction.changed":
      return isNum(m.target) && typeof m.emoji === "string" && isNum(m.count) ? (m as unknown as LiveEvent) : null;
    case "like.changed":
      return typeof m.target === "string" && isNum(m.likes) ? (m as unknown as LiveEvent) : null;
    case "count.changed":
      return isNum(m.count) ? (m as unknown as LiveEvent) : null;
    case "thread.locked":
      return typeof m.locked === "boolean" ? (m as unknown as LiveEvent) : null;
    case "thread.moved":
      return typeof m.to === "string" && /^[0-9a-f]{24}$/.test(m.to) ? (m as unknown as LiveEvent) : null;
    case "thread.remote":
      return typeof m.remote === "object" ? (m as unknown as LiveEvent) : null;
  }
  return null;
}

export class Live {
  private socket: WebSocket | null = null;
  private stream: AbortController | null = null;
  private failures = 0;
  /** "ws" until websockets fail on this network; then "stream" for the page's life. */
  transport: "ws" | "stream" = "ws";
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
    this.drop();
    this.delay = FIRST_DELAY_MS;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.drop();
  }

  /** Close whatever is open without reacting to its end. */
  private drop(): void {
    const ws = this.socket;
    const stream = this.stream;
    this.socket = null;
    this.stream = null;
    ws?.close(1000);
    stream?.abort();
  }

  private url(kind: "live" | "stream"): string {
    const q = new URLSearchParams({ since: String(this.seq), epoch: this.epoch });
    const path = `/api/threads/${encodeURIComponent(this.tid)}/${kind}?${q.toString()}`;
    if (kind === "stream") return path;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${path}`;
  }

  private connect(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    if (this.transport === "stream") {
      this.openStream();
      return;
    }
    let ws: WebSocket;
    let ready = false;
    try {
      ws = new WebSocket(this.url("live"));
    } catch {
      this.socketFailed();
      return;
    }
    this.socket = ws;
    ws.onopen = () => {
      this.openedAt = Date.now();
      // The token goes in the first message, never in the URL (URLs end up in logs).
      ws.send(JSON.stringify({ type: "hello", ...this.hello() }));
    };
    ws.onmessage = (m) => {
      if (this.receive(m.data, () => ws.close(1000)) === "ready") {
        ready = true;
        this.failures = 0;
      }
    };
    ws.onclose = (e) => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (Date.now() - this.openedAt > STABLE_MS) this.delay = FIRST_DELAY_MS;
      if (e.code === RESUME_NOW) this.connect();
      else if (!ready) this.socketFailed();
      else this.retry();
    };
  }

  /** A socket that closed before "ready": refused, or cut by something on the way. */
  private socketFailed(): void {
    this.failures += 1;
    if (this.failures >= SOCKET_FAILURES_BEFORE_STREAM) {
      this.transport = "stream";
      this.connect();
      return;
    }
    this.retry();
  }

  private openStream(): void {
    const ctrl = new AbortController();
    this.stream = ctrl;
    const { client, token } = this.hello();
    const headers: Record<string, string> = { Accept: "text/event-stream", "X-Rejoinder-Client": client };
    if (token) headers.Authorization = `Bearer ${token}`;
    const openedAt = Date.now();
    let ready = false;
    const read = async (): Promise<void> => {
      const res = await fetch(this.url("stream"), { headers, signal: ctrl.signal, cache: "no-store" });
      if (!res.ok || !res.body) throw new Error(`stream: ${res.status}`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done || this.stream !== ctrl) return;
        buf += value.replace(/\r\n?/g, "\n");
        let end: number;
        while ((end = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(l.startsWith("data: ") ? 6 : 5)).join("\n");
          if (data && this.stream === ctrl && this.receive(data, () => ctrl.abort()) === "ready") ready = true;
        }
        if (buf.length > MAX_STREAM_BUFFER) throw new Error("stream: message too long");
      }
    };
    read().catch(() => undefined).finally(() => {
      if (this.stream !== ctrl) return; // closed on purpose, or a resync took over
      this.stream = null;
      if (!ready) {
        // Plain HTTP fails too: the server is out of reach, not only websockets. Try both again.
        this.transport = "ws";
        this.failures = 0;
        this.retry();
        return;
      }
      // An answer ends on purpose after a few minutes, or when the reader fell behind:
      // a stream that lasted resumes at once, one that failed backs off.
      if (Date.now() - openedAt > STABLE_MS) {
        this.delay = FIRST_DELAY_MS;
        this.connect();
      } else this.retry();
    });
  }

  /** Handle one message; returns its type when it was one we act on. `close` ends the
   * transport it came on without a reconnect of its own (a resync reconnects itself). */
  private receive(raw: unknown, close: () => void): string | null {
    let data: unknown;
    try {
      data = JSON.parse(String(raw));
    } catch {
      return null;
    }
    const msg = parseEvent(data);
    if (!msg) return null;
    if (msg.type === "ready") {
      this.seq = Math.max(this.seq, msg.head);
      this.wasLive = true;
      this.hooks.state("live");
    } else if (msg.type === "resync") {
      this.socket = null;
      this.stream = null;
      close();
      this.hooks.resync().then(({ head, epoch }) => {
        this.seq = head;
        this.epoch = epoch;
        this.connect();
      }, () => this.retry());
    } else if (msg.type === "presence") {
      this.hooks.presence?.(msg.readers);
    } else if (msg.type === "typing") {
      this.hooks.typing?.(msg.readers);
    } else if (msg.seq > this.seq) {
      // Replays overlap what the REST page already showed: seq numbers dedupe them.
      this.seq = msg.seq;
      this.hooks.event(msg);
    }
    return msg.type;
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
    if (!this.socket && !this.stream && !this.stopped) {
      this.delay = FIRST_DELAY_MS;
      this.connect();
    }
  }
}
