// What the reader typed, kept in storage so a reload or a crash loses nothing
// until the comment is posted. Guest details are kept only if the reader asks.

import { read, remove, write } from "./storage";

export interface Draft {
  text: string;
  /** The comment being replied to, if any. */
  parent: number | null;
  /** Guest details typed so far: kept with the draft, forgotten once posted unless remembered. */
  name: string;
  email: string;
  website: string;
  /** Idempotency key, reused while the request is the same (fingerprint), so a retry is stored once. */
  key: string;
  fingerprint: string;
}

export interface GuestDetails {
  name: string;
  email: string;
  website: string;
}

const draftKey = (tid: string): string => "rj:draft:" + tid;
const GUEST = "rj:guest";

export function loadDraft(tid: string): Draft | null {
  const d = read<Draft>(draftKey(tid));
  return d && typeof d.text === "string" ? d : null;
}

export function saveDraft(tid: string, draft: Draft): void {
  if (draft.text.trim()) write(draftKey(tid), draft);
  else remove(draftKey(tid));
}

export function clearDraft(tid: string): void {
  remove(draftKey(tid));
}

export function loadGuest(): GuestDetails | null {
  const g = read<GuestDetails>(GUEST);
  return g && typeof g.name === "string" ? g : null;
}

export function saveGuest(details: GuestDetails | null): void {
  if (details) write(GUEST, details);
  else remove(GUEST);
}
