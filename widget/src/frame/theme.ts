// Theme and site-owner style overrides, applied to the root element.
//
// The comments take the colour of the page around them: the loader measures it (the
// "backdrop", embed.ts) and the frame paints exactly that, so it looks transparent, yet
// has a real background for contrast (and for checkers like axe, which cannot see
// through an iframe). "auto" picks the dark or light style by that colour, so a light
// blog read by someone whose system is dark still gets dark text on its light page.
// When the backdrop is unknown, "auto" is pure CSS: a prefers-color-scheme media query
// in frame.css, on the theme's own background.

import { isDark } from "../messages";
import type { Params, Theme } from "./params";

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

// data-theme="light" on a dark page paints its own white, as a light page would.
const LIGHT_BACKGROUND = "#ffffff";

let requested: Theme = "auto";
let ownBackground = false;
let lastBackdrop = "";

/** The site's script chose another theme: applied at once, on the same backdrop. */
export function setTheme(theme: Theme): void {
  requested = theme;
  setBackdrop(lastBackdrop);
}

/** Match the host page's colour behind us ("" when unknown). */
export function setBackdrop(color: string): void {
  lastBackdrop = color;
  const root = document.documentElement;
  const dark = color ? isDark(color) : null;
  const theme = requested === "auto" && dark !== null ? (dark ? "dark" : "light") : requested;
  root.dataset.theme = theme;
  if (ownBackground) return; // the site set --rejoinder-bg: theirs wins
  // A forced style on a page of the other kind (dark comments on a white page) keeps its own
  // background: the page's would leave its text unreadable.
  if (dark !== null && (theme === "dark") === dark) root.style.setProperty("--rj-bg", color);
  else if (dark && theme === "light") root.style.setProperty("--rj-bg", LIGHT_BACKGROUND);
  else root.style.removeProperty("--rj-bg"); // frame.css: the theme's own (light: none, dark: its grey)
}

export function applyTheme(params: Params): void {
  const root = document.documentElement;
  requested = params.theme;
  for (const [name, value] of Object.entries(params.style)) {
    const property = KINDS[name];
    if (property && !/[;{}]|url\(/i.test(value) && CSS.supports(property, value)) {
      root.style.setProperty("--rj-" + name, value);
      if (name === "accent") {
        root.style.setProperty("--rj-star", star(value, false));
        root.style.setProperty("--rj-star-on", star(value, true));
      }
      if (name === "bg") ownBackground = true;
    }
  }
  setBackdrop(params.backdrop);
}
