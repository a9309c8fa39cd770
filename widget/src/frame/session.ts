// Who this reader is to the server: the anonymous client id, and the bearer
// token once they sign in. The token lives in the iframe's own storage where the
// browser allows it, else in the blog page's storage through the loader (storage.ts).

import type { Session } from "./api";
import { clientId } from "./client-id";
import { read, remove, write } from "./storage";

const TOKEN_KEY = "rj:token";

export function loadSession(): Session {
  const token = read<string>(TOKEN_KEY);
  return { clientId: clientId(), token: typeof token === "string" ? token : null };
}

export function signIn(session: Session, token: string): void {
  session.token = token;
  write(TOKEN_KEY, token);
}

export function signOut(session: Session): void {
  session.token = null;
  remove(TOKEN_KEY);
}
