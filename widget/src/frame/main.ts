// frame.js entry: read the iframe's parameters, set language and theme, start the app.

import { Api } from "./api";
import { startApp, TOKEN_KEY } from "./app";
import { clientId } from "./client-id";
import { Host } from "./host";
import { makeI18n, pickLanguage } from "./i18n";
import { readParams } from "./params";
import { ownStorage, read, useRelay } from "./storage";
import { applyTheme } from "./theme";

const params = readParams(location.search);
const i18n = makeI18n(pickLanguage(params.lang, navigator.languages || [navigator.language]));
document.documentElement.lang = i18n.lang;
document.title = i18n.t("comments");
applyTheme(params);

async function main(): Promise<void> {
  const host = new Host(params.origin);
  if (!ownStorage && host.embedded) useRelay((key, raw) => host.store(key, raw), await host.recall());
  const session = { clientId: clientId(), token: read<string>(TOKEN_KEY) };
  await startApp(params, i18n, new Api(session), host, session.clientId, session.token);
}

void main();
