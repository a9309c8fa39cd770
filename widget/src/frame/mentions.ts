// "@" in a comment suggests the thread's participants: a listbox under the text
// (arrows to move, Enter or Tab to take one, Escape to close), as a combobox
// announces it. Taking one writes "@Name " and remembers whose comment it
// names, so the server can tell that reader (if they asked for mail).

import { h, on } from "./dom";
import type { I18n } from "./i18n";

export interface Participant {
  name: string;
  /** Their newest comment in the thread: the one the mention points at. */
  id: number;
}

const QUERY = /(?:^|[\s(])@([\p{L}\p{N}_.'-]{0,30})$/u;
const SHOWN = 6;
let counter = 0;

export class Mentions {
  private readonly list: HTMLUListElement;
  private shown: Participant[] = [];
  private active = -1;
  private readonly chosen = new Map<string, number>();

  constructor(private readonly text: HTMLTextAreaElement, private readonly people: () => Participant[], i18n: I18n) {
    const id = `rj-mentions-${++counter}`;
    this.list = h("ul", { class: "rj-mentions", id, role: "listbox", "aria-label": i18n.t("mentionList"), hidden: true });
    text.after(this.list);
    text.setAttribute("aria-autocomplete", "list");
    text.setAttribute("aria-controls", id);
    on(text, "input", () => this.update());
    on(text, "keydown", (e) => this.key(e));
    on(text, "blur", () => window.setTimeout(() => this.close(), 150));
    on(this.list, "mousedown", (e) => {
      const li = (e.target as Element).closest<HTMLElement>("li[data-i]");
      if (!li) return;
      e.preventDefault(); // keep the focus in the text
      this.take(Number(li.dataset.i));
    });
  }

  /** The comments the text still mentions (an "@Name" deleted since is no longer one). */
  picked(value: string): number[] {
    const ids = new Set<number>();
    for (const [name, id] of this.chosen) if (value.includes("@" + name)) ids.add(id);
    return [...ids];
  }

  reset(): void {
    this.chosen.clear();
    this.close();
  }

  private query(): string | null {
    const before = this.text.value.slice(0, this.text.selectionStart ?? this.text.value.length);
    const m = QUERY.exec(before);
    return m ? m[1] : null;
  }

  private update(): void {
    const q = this.query();
    if (q === null) return this.close();
    const lower = q.toLowerCase();
    this.shown = this.people().filter((p) => p.name.toLowerCase().startsWith(lower)).slice(0, SHOWN);
    if (!this.shown.length) return this.close();
    this.active = 0;
    this.list.replaceChildren(...this.shown.map((p, i) =>
      h("li", { id: `${this.list.id}-${i}`, role: "option", "data-i": i, "aria-selected": i === 0 ? "true" : "false" },
        "@" + p.name)));
    this.list.hidden = false;
    this.text.setAttribute("aria-expanded", "true");
    this.text.setAttribute("aria-activedescendant", `${this.list.id}-0`);
  }

  private key(e: KeyboardEvent): void {
    if (this.list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : this.shown.length - 1)) % this.shown.length;
      this.list.querySelectorAll("li").forEach((li, i) => li.setAttribute("aria-selected", i === this.active ? "true" : "false"));
      this.text.setAttribute("aria-activedescendant", `${this.list.id}-${this.active}`);
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      this.take(this.active);
    } else if (e.key === "Escape") {
      e.preventDefault();
      this.close();
    }
  }

  private take(i: number): void {
    const p = this.shown[i];
    const q = this.query();
    if (!p || q === null) return;
    const end = this.text.selectionStart ?? this.text.value.length;
    const start = end - q.length - 1;
    this.text.setRangeText(`@${p.name} `, start, end, "end");
    this.chosen.set(p.name, p.id);
    this.close();
    this.text.dispatchEvent(new Event("input", { bubbles: true }));
  }

  private close(): void {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.shown = [];
    this.text.setAttribute("aria-expanded", "false");
    this.text.removeAttribute("aria-activedescendant");
  }
}
