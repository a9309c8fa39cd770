// What the parts of the iframe app share: one object, built in app.ts.

import type { Api } from "./api";
import type { Host } from "./host";
import type { I18n } from "./i18n";
import type { Params } from "./params";
import type { Me, Site, Thread } from "./types";
import type { Announcer } from "./views/announcer";
import type { Header } from "./views/header";
import type { CommentList } from "./views/list";

export interface Ctx {
  params: Params;
  i18n: I18n;
  api: Api;
  host: Host;
  site: Site | null;
  thread: Thread;
  me: Me;
  list: CommentList;
  header: Header;
  announcer: Announcer;
  /** Redraw every comment (the thread was locked, the reader signed in...). */
  redrawAll(): void;
  /** Comment `id` is about to be removed: anything parked under it (the reply form) moves away. */
  leaving(id: number): void;
  /** Set the comment count everywhere it shows. */
  setCount(n: number): void;
}
