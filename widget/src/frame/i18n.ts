// The widget's words. Each language is one file, widget/locales/<lang>.json (a translator's pull request
// touches that file only); English is built into frame.js, and the server puts the reader's language's
// messages into the frame document (server/rejoinder/frame.py), so no language costs a request.
// Plurals follow the language's CLDR categories (Intl.PluralRules); "=0" is an optional text for zero.

import en from "../../locales/en.json";

type Plural = Partial<Record<Intl.LDMLPluralRule | "=0", string>> & { other: string };
type Entry = string | Plural;
export type Key = keyof typeof en;
export type Messages = Record<Key, Entry>;

/** Languages written right to left: the frame's layout mirrors (logical CSS properties). */
const RTL = new Set(["ar", "he", "fa", "ur"]);

/** The messages the server put in the document (its language), else English. */
export function embeddedMessages(): { lang: string; messages: Messages } {
  const el = document.getElementById("rj-messages");
  const lang = el?.getAttribute("data-lang") || "en";
  if (el) {
    el.remove();
    try {
      const messages = JSON.parse(el.textContent || "") as Messages;
      if (messages && typeof messages === "object") return { lang, messages: { ...en, ...messages } };
    } catch {
      // a broken document: English it is
    }
  }
  return { lang: "en", messages: en as Messages };
}

export function isRtl(lang: string): boolean {
  return RTL.has(lang.split("-")[0]);
}

export interface I18n {
  lang: string;
  t(key: Key, vars?: Record<string, string | number>): string;
  relative(date: Date, now: number): string;
  /** The exact date and time (for hover titles), or null until loadExact() ran. */
  exact(date: Date): string | null;
  /** Make exact() answer from now on. Creating the formatter takes 20-60 ms in
   * a fresh renderer (it loads ICU data), so it waits until the comments show. */
  loadExact(): void;
}

// Unit sizes for relative times, largest first, in seconds.
const UNITS: [Key, number][] = [
  ["years", 31536000], ["months", 2592000], ["weeks", 604800], ["days", 86400], ["hours", 3600], ["minutes", 60],
];

export function makeI18n(lang: string, dict: Messages = en as Messages): I18n {
  const plural = new Intl.PluralRules(lang);
  // Intl.NumberFormat costs ~70 ms to create in a fresh renderer (it loads ICU
  // number data), which is most of a thread's first render: small numbers, the
  // usual case, read the same in our languages without it.
  let number: Intl.NumberFormat | null = null;
  const formatNumber = (n: number): string =>
    Math.abs(n) < 1000 && Number.isInteger(n) ? String(n) : (number ||= new Intl.NumberFormat(lang)).format(n);
  // Relative times come from the dictionaries, not Intl.RelativeTimeFormat: creating
  // one took 30-110 ms in the iframe's fresh renderer (it loads ICU number data),
  // a fifth of the time to show a thread (bench/RESULTS.md, Widget).
  let dtf: Intl.DateTimeFormat | null = null;
  const t = (key: Key, vars: Record<string, string | number> = {}): string => {
    const entry = dict[key];
    let text: string;
    if (typeof entry === "string") text = entry;
    else {
      const n = Number(vars.n ?? 0);
      text = (n === 0 && entry["=0"]) || entry[plural.select(n)] || entry.other;
    }
    if (!text.includes("{")) return text; // most strings: a first page asks for ~1,000 of them
    return text.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = vars[name];
      return typeof v === "number" ? formatNumber(v) : v ?? "";
    });
  };
  return {
    lang,
    t,
    relative(date, now) {
      // A time ahead of ours is the two clocks disagreeing: it was just posted.
      const ago = (now - date.getTime()) / 1000;
      for (const [unit, size] of UNITS) {
        if (ago >= size) return t(unit, { n: Math.round(ago / size) });
      }
      return t("now");
    },
    exact(date) {
      return dtf && dtf.format(date);
    },
    loadExact() {
      dtf ||= new Intl.DateTimeFormat(lang, { dateStyle: "long", timeStyle: "short" });
    },
  };
}
