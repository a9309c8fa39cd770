// Edit tokens of the reader's own guest comments, per thread. The server gives
// one with each guest comment; it is the only proof of authorship a guest has.
// Expired tokens are dropped so storage does not grow forever.

import { read, write } from "./storage";

type Saved = Record<string, { token: string; until: number }>;

const key = (tid: string): string => "rj:edit:" + tid;

function load(tid: string): Saved {
  const saved = read<Saved>(key(tid)) || {};
  const now = Date.now();
  for (const [cid, entry] of Object.entries(saved)) {
    if (!entry || typeof entry.token !== "string" || entry.until < now) delete saved[cid];
  }
  return saved;
}

export function saveToken(tid: string, cid: number, token: string, until: number): void {
  const saved = load(tid);
  saved[cid] = { token, until };
  write(key(tid), saved);
}

export function tokenFor(tid: string, cid: number): string | null {
  return load(tid)[cid]?.token ?? null;
}

export function dropToken(tid: string, cid: number): void {
  const saved = load(tid);
  delete saved[cid];
  write(key(tid), saved);
}
