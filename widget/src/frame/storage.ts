// Browser storage that never throws: localStorage when the browser allows it
// inside a third-party iframe, else memory for this page view.

const memory = new Map<string, string>();
let local: Storage | null = null;
try {
  // Reading the property itself throws when storage is blocked.
  local = window.localStorage;
  local.setItem("rj:probe", "1");
  local.removeItem("rj:probe");
} catch {
  local = null;
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
  try {
    local?.setItem(key, raw);
  } catch {
    // Quota or a late block: memory still holds it for this page view.
  }
}

export function remove(key: string): void {
  memory.delete(key);
  try {
    local?.removeItem(key);
  } catch {
    // nothing to do
  }
}
