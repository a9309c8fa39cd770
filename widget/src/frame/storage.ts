// Browser storage that never throws: localStorage when the browser allows it
// inside a third-party iframe; else memory, relayed to the host page's storage
// through the loader (Chrome's incognito mode and "block third-party cookies"
// deny an iframe its storage), so drafts and the reader's id survive a reload.

const memory = new Map<string, string>();
// Nothing is held back from the relay: when the iframe has no storage of its own,
// the session token too is kept in the blog page's storage (scoped to that blog),
// so a reader stays signed in across reloads. The server accepts that token only
// from the iframe's own origin (auth/identity.py); README "Social login" says what
// this trades.
const PRIVATE = new Set<string>();
let relay: ((key: string, raw: string | null) => void) | null = null;
let local: Storage | null = null;
try {
  // Reading the property itself throws when storage is blocked.
  local = window.localStorage;
  local.setItem("rj:probe", "1");
  local.removeItem("rj:probe");
} catch {
  local = null;
}

/** Whether the iframe has storage of its own. */
export const ownStorage = local !== null;

/** Keep entries through the host page from now on, starting from what it kept before. */
export function useRelay(save: (key: string, raw: string | null) => void, kept: Record<string, string>): void {
  relay = save;
  for (const [key, raw] of Object.entries(kept)) if (!memory.has(key) && !PRIVATE.has(key)) memory.set(key, raw);
}

function relayed(key: string, raw: string | null): void {
  if (relay && !local && !PRIVATE.has(key)) relay(key, raw);
}

export function read<T>(key: string): T | null {
  let raw: string | null | undefined = memory.get(key);
  if (raw === undefined && local) {
    try {
      raw = local.getItem(key);
    } catch {
      raw = null;
    }
  }
  if (raw == null) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

export function write(key: string, value: unknown): void {
  const raw = JSON.stringify(value);
  memory.set(key, raw);
  relayed(key, raw);
  try {
    local?.setItem(key, raw);
  } catch {
    // Quota or a late block: memory still holds it for this page view.
  }
}

export function remove(key: string): void {
  memory.delete(key);
  relayed(key, null);
  try {
    local?.removeItem(key);
  } catch {
    // nothing to do
  }
}
