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

// The like star (frame.css --rj-star), drawn in a given colour.
const STAR = "M12 2.5l2.9 6.1 6.6.8-4.9 4.6 1.3 6.6L12 17.3l-5.9 3.3 1.3-6.6-4.9-4.6 6.6-.8z";

function star(color: string, on: boolean): string {
  const paint = on ? `fill='${color}'` : `fill='none' stroke='${color}' stroke-width='1.8' stroke-linejoin='round'`;
  const svg = `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'><path ${paint} d='${STAR}'/></svg>`;
  return `url("data:image/svg+xml,${encodeURIComponent(svg)}")`;
}

export function applyTheme(params: Params): void {
  const root = document.documentElement;
  root.dataset.theme = params.theme;
  for (const [name, value] of Object.entries(params.style)) {
    const property = KINDS[name];
    if (property && !/[;{}]|url\(/i.test(value) && CSS.supports(property, value)) {
      root.style.setProperty("--rj-" + name, value);
      if (name === "accent") {
        root.style.setProperty("--rj-star", star(value, false));
        root.style.setProperty("--rj-star-on", star(value, true));
      }
    }
  }
}
