// frame.js entry: read the iframe's parameters, set language and theme, start the app.

import { Api, type Session } from "./api";
import { startApp } from "./app";
import { savedClientId } from "./client-id";
import { Host } from "./host";
import { embeddedMessages, isRtl, makeI18n } from "./i18n";
import { readParams, takeSso } from "./params";
import { loadSession } from "./session";
import { ownStorage, useRelay } from "./storage";
import { applyTheme } from "./theme";
import type { FirstPage } from "./types";

const params = readParams(location.search);
params.sso = takeSso();
// The server chose the language (the page's, else the browser's) and put its messages in the document.
const { lang, messages } = embeddedMessages();
const i18n = makeI18n(lang, messages);
document.documentElement.lang = lang;
document.documentElement.dir = isRtl(lang) ? "rtl" : "ltr";
document.title = i18n.t("comments");
applyTheme(params);

/** The thread's first page as anyone sees it, if the server put it in this document (server/rejoinder/frame.py). */
function embeddedPage(): FirstPage | null {
  const el = document.getElementById("rj-thread");
  if (!el) return null;
  el.remove();
  try {
    const page = JSON.parse(el.textContent || "") as FirstPage;
    return page && page.thread && Array.isArray(page.comments) ? page : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  performance.mark("rejoinder:start");
  const host = new Host(params.origin);
  const embedded = embeddedPage();
  // Who the reader is comes from storage: the iframe's own, or what the host page
  // kept for it, which is a round trip to the loader. It starts now and is
  // awaited only once the comments are built, so it costs no time.
  const session: Session = { clientId: "", token: null };
  const known = (async (): Promise<boolean> => {
    if (!ownStorage && host.embedded) useRelay((key, raw) => host.store(key, raw), await host.recall());
    const returning = savedClientId() !== null;
    Object.assign(session, loadSession());
    return returning || session.token !== null;
  })();
  await startApp(params, i18n, new Api(session), host, session, known, embedded);
}

void main();
