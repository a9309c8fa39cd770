// Social login from inside the iframe, without third-party cookies: a popup
// on our own origin runs the provider's flow, then this iframe redeems a
// one-time handover for a bearer session (server/rejoinder/api/auth.py).
//
// The popup URL carries only the hash of a secret this iframe keeps in
// memory. Knowing the secret is not enough to redeem (whoever picks a hash
// knows its secret): the popup's last page hands us a code by postMessage,
// which only an opener on our own origin receives. When a provider cut
// window.opener, the reader confirms in the popup, and we ask the server.

import { Api, ApiError } from "./api";
import { ownStorage } from "./storage";
import type { Handover } from "./types";

// The reader needs a few seconds at the provider; asking sooner is wasted.
const POLL_FIRST_MS = 3000;
const POLL_EVERY_MS = 2000;
// Give up asking after this long: a login abandoned in the popup.
const POLL_FOR_MS = 5 * 60 * 1000;

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

export interface LoginHooks {
  signedIn(session: Handover): void;
  failed(message: string | null): void;
}

export class Login {
  private secret = "";
  private hash = "";
  private popup: Window | null = null;
  private timer = 0;
  private started = 0;

  constructor(private readonly api: Api, private readonly site: string, private readonly hooks: LoginHooks) {
    addEventListener("message", (event) => this.message(event));
    void this.prepare();
  }

  /** Made ahead of the click: window.open must run in the click itself or it is blocked. */
  private async prepare(): Promise<void> {
    const secret = b64url(crypto.getRandomValues(new Uint8Array(32)));
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret));
    this.secret = secret;
    this.hash = b64url(new Uint8Array(digest));
  }

  start(provider: string): void {
    if (!this.hash) return;
    // The window speaks the comments' language (the page's, else the browser's), as the frame does.
    const q = new URLSearchParams({ site: this.site, h: this.hash, lang: document.documentElement.lang });
    this.popup = window.open(`/auth/${encodeURIComponent(provider)}/start?${q.toString()}`, "rejoinder-login",
      "popup,width=520,height=680");
    if (!this.popup) {
      this.hooks.failed(null);
      return;
    }
    this.started = Date.now();
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.poll(), POLL_FIRST_MS);
  }

  private message(event: MessageEvent): void {
    // Only the popup we opened, on our own origin, can say how the login went.
    if (!this.popup || event.source !== this.popup || event.origin !== location.origin) return;
    const m = (event.data as { rejoinder?: { type?: unknown; code?: unknown } } | null)?.rejoinder;
    if (m?.type === "login.done" && typeof m.code === "string") void this.redeem(m.code);
    else if (m?.type === "login.failed") this.stop();
  }

  private async poll(): Promise<void> {
    if (!this.popup || Date.now() - this.started > POLL_FOR_MS) return this.stop();
    if (await this.redeem(null)) return;
    if (this.popup) this.timer = window.setTimeout(() => this.poll(), POLL_EVERY_MS);
  }

  private async redeem(code: string | null): Promise<boolean> {
    const secret = this.secret;
    try {
      // Without storage of its own the frame keeps the session in the blog page's: ask for the kind
      // of session that may sit there (bound to this site, short-lived, showing no email address).
      const session = await this.api.handover(secret, code, ownStorage ? "frame" : "page");
      if (secret !== this.secret) return true; // another attempt already finished this one
      this.stop();
      this.hooks.signedIn(session);
      return true;
    } catch (e) {
      if (e instanceof ApiError && e.code === "handover_pending") return false;
      this.stop();
      this.hooks.failed(e instanceof ApiError && e.code !== "network" ? e.message : null);
      return true;
    }
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.popup = null;
    void this.prepare(); // a secret is used for one login only
  }
}

let passkeyListener: ((event: MessageEvent) => void) | null = null;

/** Add a passkey to the signed-in reader's account. Browsers run no WebAuthn ceremony in this cross-site
 * frame, so it runs in a popup on our own origin, which gets its leave (a one-time ticket) from us by
 * postMessage, never in its URL. `done`: "added", or a message (null: the popup was blocked). */
export function addPasskey(api: Api, site: string, done: (outcome: string | null) => void): void {
  // A window name of its own each time: a page cannot have opened a window by that name first.
  const popup = window.open(`/auth/passkey/add?lang=${encodeURIComponent(document.documentElement.lang)}`,
    `rejoinder-passkey-${b64url(crypto.getRandomValues(new Uint8Array(9)))}`,
    "popup,width=520,height=680");
  if (passkeyListener) removeEventListener("message", passkeyListener);
  if (!popup) return done(null);
  let ticket = "";
  let ready = false;
  const send = (): void => {
    if (ticket && ready) popup.postMessage({ rejoinder: { type: "passkey.ticket", ticket } }, location.origin);
  };
  const listener = (event: MessageEvent): void => {
    if (event.source !== popup || event.origin !== location.origin) return;
    const type = (event.data as { rejoinder?: { type?: unknown } } | null)?.rejoinder?.type;
    if (type === "passkey.ready") {
      ready = true;
      send();
    } else if (type === "passkey.added") {
      removeEventListener("message", listener);
      done("added");
    }
  };
  passkeyListener = listener;
  addEventListener("message", listener);
  api.passkeyTicket(site).then((r) => {
    ticket = r.ticket;
    send();
  }, (e) => {
    removeEventListener("message", listener);
    popup.close();
    done(e instanceof ApiError && e.code !== "network" ? e.message : null);
  });
}
