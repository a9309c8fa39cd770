// The iframe's configuration, read once from its URL (the loader writes it).

import { BACKDROP } from "../messages";

export type Theme = "light" | "dark" | "auto";

export interface Params {
  site: string;
  page: string;
  url: string;
  title: string;
  theme: Theme;
  lang: string;
  /** The host page's origin: the only target our postMessages go to. */
  origin: string;
  /** Site-owner style overrides: name -> CSS value, checked in theme.ts. */
  style: Record<string, string>;
  /** The host page's colour behind us ("rgb(r, g, b)"), or "" if unknown (see embed.ts). */
  backdrop: string;
  /** The blog's signed sign-in of its member (data-sso), from the URL's fragment; "" if none. */
  sso: string;
  /** The post on Mastodon and on Bluesky whose replies the thread shows ("" if none). */
  mastodon: string;
  bluesky: string;
}

/** The fragment's sso token, taken out of the address at once (it is used once, and never kept). */
export function takeSso(): string {
  const m = /(?:^#|&)sso=([^&]*)/.exec(location.hash);
  if (!m) return "";
  history.replaceState(null, "", location.pathname + location.search);
  try {
    return decodeURIComponent(m[1]).slice(0, 4096);
  } catch {
    return "";
  }
}

export function readParams(search: string): Params {
  const q = new URLSearchParams(search);
  const theme = q.get("theme");
  const style: Record<string, string> = {};
  q.forEach((value, key) => {
    if (key.startsWith("s-")) style[key.slice(2)] = value;
  });
  let origin = "";
  try {
    origin = new URL(q.get("origin") || "").origin;
  } catch {
    // no host page (the frame opened on its own): nothing to talk to
  }
  return {
    site: q.get("site") || "",
    page: q.get("page") || q.get("url") || "",
    url: q.get("url") || "",
    title: q.get("title") || "",
    theme: theme === "light" || theme === "dark" ? theme : "auto",
    lang: q.get("lang") || "",
    origin: origin === "null" ? "" : origin,
    style,
    backdrop: BACKDROP.test(q.get("backdrop") || "") ? q.get("backdrop") || "" : "",
    sso: "",
    mastodon: q.get("mastodon") || "",
    bluesky: q.get("bluesky") || "",
  };
}
