// Theme and site-owner style overrides, applied to the root element.
// "auto" is pure CSS (a prefers-color-scheme media query in frame.css), so
// it follows the reader's system setting live without any script.

import type { Params } from "./params";

// Which CSS property each override must be a valid value of. Checking with
// CSS.supports keeps a host page from injecting anything but a plain value.
const KINDS: Record<string, string> = {
  accent: "color",
  text: "color",
  muted: "color",
  bg: "background-color",
  surface: "background-color",
  border: "color",
  radius: "border-radius",
  font: "font-family",
};

export function applyTheme(params: Params): void {
  const root = document.documentElement;
  root.dataset.theme = params.theme;
  for (const [name, value] of Object.entries(params.style)) {
    const property = KINDS[name];
    if (property && !/[;{}]|url\(/i.test(value) && CSS.supports(property, value)) {
      root.style.setProperty("--rj-" + name, value);
    }
  }
}
