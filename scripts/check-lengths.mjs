#!/usr/bin/env node
/**
 * Keeps src/ readable: no function longer than 60 lines, no file longer than 350 (a file that says
 * `@generated` on its first line aside). Lines are counted from a declaration's first line to its
 * last, as an editor shows them. Run by `make lint`; prints each offender with file and line.
 * Usage: node scripts/check-lengths.mjs [folder]   (default: src/)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const MAX_FUNCTION = 60;
const MAX_FILE = 350;
const root = process.cwd();
const checked = process.argv[2] ?? join(new URL('..', import.meta.url).pathname, 'src');

function* sourceFiles(dir) {
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, d.name);
    if (d.isDirectory()) yield* sourceFiles(path);
    else if (d.name.endsWith('.ts')) yield path;
  }
}

const problems = [];
for (const file of sourceFiles(checked)) {
  const text = readFileSync(file, 'utf8');
  const rel = relative(root, file);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (text.split('\n', 1)[0].includes('@generated')) continue;
  if (lines > MAX_FILE) problems.push(`${rel}:1: file has ${lines} lines (at most ${MAX_FILE})`);
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION) problems.push(`${rel}:${start + 1}: ${nameOf(node)} has ${length} lines (at most ${MAX_FUNCTION})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

function nameOf(node) {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent)) return parent.name.getText();
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  return 'a function';
}

for (const p of problems) console.error(p);
if (problems.length) {
  console.error(`${problems.length} length problem(s): split at the seams the code marks (README, "Development").`);
  process.exit(1);
}
