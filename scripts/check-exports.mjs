#!/usr/bin/env node
/**
 * Keeps src/ free of exported code nothing uses: a function, constant or class a module exports must
 * be named in another file of src/, test/, bench/ or scripts/ (a re-export counts), else it should
 * not be exported, or should go. Exported types are left alone: they name the shapes of exported
 * functions' parameters and results. Run by
 * `make lint`; prints each with file and line.
 * Usage: node scripts/check-exports.mjs [src folder] [other folders that may use it...]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const repo = new URL('..', import.meta.url).pathname;
const [src = join(repo, 'src'), ...users] = process.argv.slice(2);
const usedFrom = users.length ? users : [join(repo, 'test'), join(repo, 'bench'), join(repo, 'scripts')];

function* files(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) yield* files(path);
    else if (/\.(ts|mjs|js)$/.test(d.name)) yield path;
  }
}

const EXPORT = /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;
const sources = [...files(src)].map((path) => ({ path, text: readFileSync(path, 'utf8') }));
const others = usedFrom.flatMap((dir) => {
  try {
    return [...files(dir)].map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  } catch {
    return [];
  }
});
const everyone = [...sources, ...others];

const unused = [];
for (const file of sources) {
  for (const m of file.text.matchAll(EXPORT)) {
    const name = m[1];
    const word = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`);
    if (everyone.some((f) => f.path !== file.path && word.test(f.text))) continue;
    const line = file.text.slice(0, m.index).split('\n').length;
    unused.push(`${relative(process.cwd(), file.path)}:${line}: ${name} is exported, and no other file names it`);
  }
}
for (const u of unused) console.error(u);
if (unused.length) {
  console.error(`${unused.length} export(s) nothing uses: drop the export (or the code).`);
  process.exit(1);
}
