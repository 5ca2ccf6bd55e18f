/**
 * The chat page's weight: the JS and CSS that the first page load fetches (what index.html references: its module
 * script, modulepreloads and stylesheets) and the chunks loaded later by dynamic import (code highlighting), raw
 * and gzip (level 9, as a CDN compresses). Reads the build in dist/web, so run `npm run build:web` first:
 *   npm run build:web && npx tsx bench/page-weight.ts
 * Prints a Markdown table (docs/BENCHMARKS.md, "Page weight").
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = join(__dirname, "..", "dist", "web");

interface Weight {
  file: string;
  bytes: number;
  gzip: number;
}

function weigh(file: string): Weight {
  const content = readFileSync(join(dist, file));
  return { file, bytes: content.length, gzip: gzipSync(content, { level: 9 }).length };
}

export function pageWeight(): { initial: Weight[]; lazy: Weight[] } {
  const html = readFileSync(join(dist, "index.html"), "utf8");
  const referenced = new Set([...html.matchAll(/(?:src|href)="\.?\/?([^"]+\.(?:js|css))"/g)].map((m) => m[1]!));
  const assets = readdirSync(join(dist, "assets"))
    .filter((f) => /\.(js|css)$/.test(f))
    .map((f) => `assets/${f}`);
  return {
    initial: assets.filter((f) => referenced.has(f)).map(weigh),
    lazy: assets.filter((f) => !referenced.has(f)).map(weigh),
  };
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

if (require.main === module) {
  const { initial, lazy } = pageWeight();
  const sum = (ws: Weight[], kind: string) => ws.filter((w) => w.file.endsWith(kind)).reduce((a, w) => ({ bytes: a.bytes + w.bytes, gzip: a.gzip + w.gzip }), { bytes: 0, gzip: 0 });
  const js = sum(initial, ".js");
  const css = sum(initial, ".css");
  const lazyJs = sum(lazy, ".js");
  console.log("| what | raw | gzip |\n| --- | --- | --- |");
  console.log(`| first load: JS (${initial.filter((w) => w.file.endsWith(".js")).length} file(s)) | ${kb(js.bytes)} | ${kb(js.gzip)} |`);
  console.log(`| first load: CSS | ${kb(css.bytes)} | ${kb(css.gzip)} |`);
  console.log(`| loaded on demand: JS (${lazy.length} chunk(s)) | ${kb(lazyJs.bytes)} | ${kb(lazyJs.gzip)} |`);
  for (const w of lazy) console.log(`| · ${w.file.replace(/-[\w-]{8}\.js$/, ".js")} | ${kb(w.bytes)} | ${kb(w.gzip)} |`);
  console.log(`\nexact bytes: ${JSON.stringify({ initial, lazy })}`);
}
