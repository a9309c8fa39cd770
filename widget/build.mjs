// Builds the widget into ../static: embed.js, count.js, frame.js, frame.css and
// frame.html (which names the other two with a content hash, so a new build
// is never mixed with a cached old one). Deterministic: the same sources give
// the same bytes, which is what lets --check compare against the commit.
//
//   node build.mjs           type-check, build into ../static, enforce the size budget
//   node build.mjs --check   build into a temp folder; fail if ../static differs (stale build)

import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const staticDir = join(here, "..", "static");
const check = process.argv.includes("--check");

// Budgets from issue 5, in gzip bytes.
const LOADER_BUDGET = 3 * 1024;
const APP_BUDGET = 30 * 1024;

const ENTRIES = {
  "embed.js": "src/embed.ts",
  "count.js": "src/count.ts",
  "frame.js": "src/frame/main.ts",
  "pow.js": "src/frame/pow-worker.ts",
  "frame.css": "src/frame/frame.css",
};

async function bundle(entry) {
  const result = await build({
    entryPoints: [join(here, entry)],
    bundle: true,
    minify: true,
    format: entry.endsWith(".css") ? undefined : "iife",
    // Browsers of the last few years; nothing here needs a polyfill.
    target: "es2020",
    legalComments: "none",
    charset: "utf8",
    write: false,
    logLevel: "warning",
  });
  return result.outputFiles[0].contents;
}

const hash = (bytes) => createHash("sha256").update(bytes).digest("hex").slice(0, 12);
const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

function frameHtml(js, css) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Comments</title>
<link rel="stylesheet" href="/frame.css?v=${hash(css)}">
<script src="/frame.js?v=${hash(js)}" defer></script>
</head>
<body></body>
</html>
`;
}

// The widget's languages: one file each in locales/, checked against English and written minified to
// static/locales/ (the server puts the reader's language's file into the frame document).
const PLACEHOLDER = /\{\w+\}/g;
const placeholders = (text, dropN = false) =>
  (String(text).match(PLACEHOLDER) || []).filter((p) => !(dropN && p === "{n}")).sort().join(",");

function locales() {
  const dir = join(here, "locales");
  const en = JSON.parse(readFileSync(join(dir, "en.json"), "utf8"));
  const out = {};
  const problems = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const lang = file.slice(0, -5);
    const messages = JSON.parse(readFileSync(join(dir, file), "utf8"));
    const categories = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    const missing = Object.keys(en).filter((k) => !(k in messages));
    const extra = Object.keys(messages).filter((k) => !(k in en));
    if (missing.length) problems.push(`${file} lacks ${missing.join(", ")}`);
    if (extra.length) problems.push(`${file} has keys English lacks: ${extra.join(", ")}`);
    for (const [key, ref] of Object.entries(en)) {
      const entry = messages[key];
      if (entry === undefined) continue;
      if (typeof ref === "string") {
        if (typeof entry !== "string") problems.push(`${file} ${key}: a text, not plural forms`);
        else if (placeholders(entry) !== placeholders(ref)) problems.push(`${file} ${key}: placeholders differ`);
        continue;
      }
      const want = [...categories, ...("=0" in ref ? ["=0"] : [])].sort().join(",");
      const got = Object.keys(entry || {}).sort().join(",");
      if (typeof entry !== "object" || got !== want) {
        problems.push(`${file} ${key}: plural forms ${got}, the language has ${want}`);
        continue;
      }
      // A form may say the number in words ("one", "two"): every other placeholder stays.
      for (const [form, text] of Object.entries(entry)) {
        if (placeholders(text, true) !== placeholders(ref[form] ?? ref.other, true)) {
          problems.push(`${file} ${key}.${form}: placeholders differ`);
        }
      }
    }
    out[`locales/${lang}.json`] = new TextEncoder().encode(JSON.stringify(messages));
  }
  return { out, problems };
}

async function buildAll() {
  const out = {};
  for (const [name, entry] of Object.entries(ENTRIES)) out[name] = await bundle(entry);
  out["frame.html"] = new TextEncoder().encode(frameHtml(out["frame.js"], out["frame.css"]));
  const languages = locales();
  if (languages.problems.length) {
    languages.problems.forEach((p) => console.error("locale: " + p));
    process.exit(1);
  }
  return { ...out, ...languages.out };
}

function budget(out) {
  const sizes = Object.fromEntries(Object.entries(out).filter(([name]) => !name.startsWith("locales/"))
    .map(([name, bytes]) => [name, { raw: bytes.length, gzip: gz(bytes) }]));
  const biggest = Math.max(...Object.entries(out).filter(([name]) => name.startsWith("locales/")).map(([, b]) => gz(b)));
  const app = sizes["frame.js"].gzip + sizes["frame.css"].gzip;
  const problems = [];
  for (const loader of ["embed.js", "count.js"]) {
    if (sizes[loader].gzip > LOADER_BUDGET) problems.push(`${loader} is ${sizes[loader].gzip} B gzip, over ${LOADER_BUDGET}`);
  }
  if (app > APP_BUDGET) problems.push(`frame.js + frame.css are ${app} B gzip, over ${APP_BUDGET}`);
  for (const [name, s] of Object.entries(sizes)) console.log(`${name.padEnd(11)} ${String(s.raw).padStart(7)} B  ${String(s.gzip).padStart(6)} B gzip`);
  console.log(`app total   ${String(app).padStart(17)} B gzip (budget ${APP_BUDGET}); loader budget ${LOADER_BUDGET}`);
  // A language's messages travel inside the frame document: they count with the app.
  console.log(`largest language ${String(biggest).padStart(12)} B gzip; app + it ${app + biggest} B`);
  if (app + biggest > APP_BUDGET) problems.push(`frame.js + frame.css + the largest language are ${app + biggest} B gzip`);
  return problems;
}

function typecheck() {
  execFileSync(join(here, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", here], { stdio: "inherit" });
}

async function main() {
  typecheck();
  const out = await buildAll();
  const problems = budget(out);
  if (problems.length) {
    problems.forEach((p) => console.error("over budget: " + p));
    process.exit(1);
  }
  if (check) {
    // Write to a temp folder too, so the check exercises the same output path.
    const tmp = mkdtempSync(join(tmpdir(), "rejoinder-widget-"));
    try {
      const stale = [];
      for (const [name, bytes] of Object.entries(out)) {
        mkdirSync(dirname(join(tmp, name)), { recursive: true });
        writeFileSync(join(tmp, name), bytes);
        const committed = join(staticDir, name);
        if (!existsSync(committed) || !readFileSync(committed).equals(readFileSync(join(tmp, name)))) stale.push(name);
      }
      if (stale.length) {
        console.error(`static/ is stale (${stale.join(", ")}): run \`npm run build\` in widget/ and commit static/.`);
        process.exit(1);
      }
      console.log("static/ matches the sources.");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return;
  }
  for (const [name, bytes] of Object.entries(out)) {
    mkdirSync(dirname(join(staticDir, name)), { recursive: true });
    writeFileSync(join(staticDir, name), bytes);
  }
  console.log("built into " + staticDir);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
