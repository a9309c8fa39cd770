// frame.js entry: read the iframe's parameters, set language and theme, start the app.

import { Api } from "./api";
import { startApp } from "./app";
import { Host } from "./host";
import { makeI18n, pickLanguage } from "./i18n";
import { readParams } from "./params";
import { loadSession } from "./session";
import { ownStorage, useRelay } from "./storage";
import { applyTheme } from "./theme";

const params = readParams(location.search);
const i18n = makeI18n(pickLanguage(params.lang, navigator.languages || [navigator.language]));
document.documentElement.lang = i18n.lang;
document.title = i18n.t("comments");
applyTheme(params);

async function main(): Promise<void> {
  performance.mark("rejoinder:start");
  const host = new Host(params.origin);
  if (!ownStorage && host.embedded) useRelay((key, raw) => host.store(key, raw), await host.recall());
  const session = loadSession();
  await startApp(params, i18n, new Api(session), host, session);
}

void main();
