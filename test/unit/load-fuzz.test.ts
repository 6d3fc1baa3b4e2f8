/**
 * Fuzzing the load phase: the shipped component.yaml and pipeline.yaml files, mutated by a seeded
 * generator (byte edits, deletions, YAML punctuation, value type swaps, repeated lines), must load
 * or be refused with a ConfigError — never another exception, never a hang.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';

const REPO = join(import.meta.dirname, '..', '..');
const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 400);
/** A single load is a few milliseconds; this is generous, and catches a hang long before vitest would. */
const MAX_LOAD_MS = 2000;

/** mulberry32: small, seeded, reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PUNCTUATION = ['{', '}', '[', ']', ':', ': ', '- ', '\n', '\n  ', '&a ', '*a', '"', "'", '#', '|', '>', '!!binary ', '? ', ',', '\t', '%'];
const VALUES = ['[]', '{}', 'null', '~', '5', '-1', '1e999', 'true', '"x"', '{inputValue: nope}', '[a, [b]]', "''", '.inf'];

function mutate(text: string, rnd: () => number): Buffer {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  let bytes = Buffer.from(text);
  const edits = 1 + Math.floor(rnd() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rnd() * bytes.length);
    const kind = Math.floor(rnd() * 5);
    if (kind === 0) {
      bytes[at] = Math.floor(rnd() * 256);
    } else if (kind === 1) {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + Math.floor(rnd() * 40)))]);
    } else if (kind === 2) {
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(pick(PUNCTUATION)), bytes.subarray(at)]);
    } else if (kind === 3) {
      // Swap the value after one `key: ` for a value of another type.
      const s = bytes.toString('latin1');
      const colon = s.indexOf(': ', at);
      if (colon < 0) continue;
      const end = s.slice(colon + 2).search(/[,}\n]/);
      const stop = end < 0 ? s.length : colon + 2 + end;
      bytes = Buffer.concat([bytes.subarray(0, colon + 2), Buffer.from(pick(VALUES)), bytes.subarray(stop)]);
    } else {
      const s = bytes.toString('latin1');
      const lineStart = s.lastIndexOf('\n', at) + 1;
      const lineEnd = s.indexOf('\n', at) < 0 ? s.length : s.indexOf('\n', at) + 1;
      bytes = Buffer.concat([bytes.subarray(0, lineEnd), bytes.subarray(lineStart, lineEnd), bytes.subarray(lineEnd)]);
    }
  }
  return bytes;
}

describe('the load phase under mutated input', () => {
  const root = mkdtempSync(join(tmpdir(), 'helmet-fuzz-'));
  for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(REPO, part), join(root, part), { recursive: true });
  const targets = ['pipeline.yaml', ...readdirSync(join(root, 'components')).map((c) => `components/${c}/component.yaml`)];
  const originals = new Map(targets.map((t) => [t, readFileSync(join(root, t), 'utf8')]));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('the unmutated project loads', () => {
    expect(loadProject(root).components.length).toBe(originals.size - 1);
  });

  it(`${ITERATIONS} mutations: each loads or is a ConfigError with a located message, none hangs`, () => {
    const rnd = random(Number(process.env.FUZZ_SEED ?? 20261201));
    const outcomes = { loaded: 0, refused: 0 };
    for (let i = 0; i < ITERATIONS; i++) {
      const target = targets[i % targets.length]!;
      const mutated = mutate(originals.get(target)!, rnd);
      writeFileSync(join(root, target), mutated);
      const started = performance.now();
      try {
        loadProject(root);
        outcomes.loaded++;
      } catch (e) {
        if (!(e instanceof ConfigError)) {
          throw new Error(`iteration ${i}, ${target}: ${String(e)}\n--- mutated file ---\n${mutated.toString('latin1')}`);
        }
        expect(e.problems.length, `iteration ${i}`).toBeGreaterThan(0);
        for (const p of e.problems) expect(p.message.length, `iteration ${i}`).toBeGreaterThan(0);
        outcomes.refused++;
      } finally {
        writeFileSync(join(root, target), originals.get(target)!);
      }
      expect(performance.now() - started, `iteration ${i}, ${target}`).toBeLessThan(MAX_LOAD_MS);
    }
    // The generator must actually break files, or the test proves nothing.
    expect(outcomes.refused).toBeGreaterThan(ITERATIONS / 4);
  });
});
