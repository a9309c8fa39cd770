// frame.js entry: read the iframe's parameters, set language and theme, start the app.

import { Api } from "./api";
import { startApp, TOKEN_KEY } from "./app";
import { clientId } from "./client-id";
import { Host } from "./host";
import { makeI18n, pickLanguage } from "./i18n";
import { readParams } from "./params";
import { read } from "./storage";
import { applyTheme } from "./theme";

const params = readParams(location.search);
const i18n = makeI18n(pickLanguage(params.lang, navigator.languages || [navigator.language]));
document.documentElement.lang = i18n.lang;
document.title = i18n.t("comments");
applyTheme(params);

const session = { clientId: clientId(), token: read<string>(TOKEN_KEY) };
void startApp(params, i18n, new Api(session), new Host(params.origin), session.clientId, session.token);
