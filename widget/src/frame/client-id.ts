// The reader's anonymous id: random, made once, kept in storage. The server
// uses it to recognise a guest's likes and their own pending comments.

import { read, write } from "./storage";

const KEY = "rj:client";
const VALID = /^[A-Za-z0-9_-]{16,64}$/;

function fresh(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  // base64url of 24 random bytes: 32 characters, 192 bits.
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

/** The id this browser was given on an earlier visit, if any. */
export function savedClientId(): string | null {
  const saved = read<string>(KEY);
  return typeof saved === "string" && VALID.test(saved) ? saved : null;
}

export function clientId(): string {
  const saved = savedClientId();
  if (saved) return saved;
  const id = fresh();
  write(KEY, id);
  return id;
}
