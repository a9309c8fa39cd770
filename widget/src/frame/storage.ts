// Browser storage that never throws: localStorage when the browser allows it
// inside a third-party iframe; else memory, relayed to the host page's storage
// through the loader (Chrome's incognito mode and "block third-party cookies"
// deny an iframe its storage), so drafts and the reader's id survive a reload.

const memory = new Map<string, string>();
// What the blog page may keep for us, when the iframe has no storage of its own. Its
// scripts (ads, an XSS in the blog) can read and change all of it, so it holds only
// what is useless beyond this blog and short-lived: the anonymous id (the server keys
// guests per site), edit tokens of this browser's guest comments (one comment each,
// for its edit window), and, once signed in, a session the server issued for the page
// to hold (bound to this site and to readers, short-lived, never showing the email
// address; login.ts asks for that kind). Never an email address the reader typed:
// drafts and saved details go there without it. README "Security model" says the same.
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
  for (const [key, raw] of Object.entries(kept)) if (!memory.has(key)) memory.set(key, raw);
}

/** The form of an entry the page may keep: an object's email field blanked. */
function forPage(raw: string): string {
  if (!raw.includes('"email"')) return raw;
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === "object" && "email" in value) return JSON.stringify({ ...value, email: "" });
  } catch {
    // not JSON: kept as it is
  }
  return raw;
}

function relayed(key: string, raw: string | null): void {
  if (relay && !local) relay(key, raw === null ? null : forPage(raw));
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
