/**
 * The YAML writer of the v1 pipeline package writes what PyYAML writes for kfp 1.8.22: each
 * reference package compiled by kfp (../shared/kfp/v1-argo), read back and written again, is the same
 * bytes; and the scalar and collection rules PyYAML applies one by one (PyYAML's emitter.py).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dumpYaml, pythonFloatRepr, type YamlData } from '../../src/kfp/pyyaml-dump.js';

const REPO = join(import.meta.dirname, '..', '..');
const V1_ARGO = join(REPO, 'test', 'fixtures', 'kfp-v1-argo');
const KFP = { flow: 'auto', sortKeys: false, kfpStrings: true } as const;

describe('PyYAML dump', () => {
  it.each(['helmet/helmet-detection.v1.yaml', 'pull-secrets/pull-secrets.v1.yaml'])('writes kfp 1.8.22 output %s again byte for byte', (file) => {
    const text = readFileSync(join(V1_ARGO, file), 'utf8');
    expect(dumpYaml(parse(text) as YamlData, KFP)).toBe(text);
  });

  it.each<[string, YamlData, string]>([
    ['numbers-like strings are quoted, numbers plain', { a: '100', b: 100, c: '0.1', d: '1.8.22' }, "{a: '100', b: 100, c: '0.1', d: 1.8.22}\n"],
    ['the empty string and null-like words are quoted', { a: '', b: 'null', c: '~' }, "{a: '', b: 'null', c: '~'}\n"],
    ['kfp double-quotes booleans words', { a: 'true', b: 'No', c: 'y' }, 'a: "true"\nb: "No"\nc: "y"\n'],
    ['multi-line text is a literal block (kfp)', { m: 'a: 1\nb: 2\n' }, 'm: |\n  a: 1\n  b: 2\n'],
    ['without a final newline the block is stripped', { m: 'a\nb' }, 'm: |-\n  a\n  b\n'],
    ['tabs and non-ASCII are escaped in double quotes', ['a\tb', 'é', '\u{1F600}'], '["a\\tb", "\\xE9", "\\U0001F600"]\n'],
    ['a colon followed by a space blocks plain in block context', { a: 'x: y' }, "{a: 'x: y'}\n"],
    ['a leading dash and space is quoted; --flag is plain', ['- a', '--flag'], "['- a', --flag]\n"],
    ['a quote inside is plain; a leading one is single-quoted and doubled', ["it's", "'q'"], "[it's, '''q''']\n"],
    ['empty collections are flow', { a: [], b: {} }, 'a: []\nb: {}\n'],
    ['a sequence in a mapping is indentless', { a: [{ b: 'c' }, { d: ['e'] }] }, 'a:\n- {b: c}\n- d: [e]\n'],
    ['timestamps are quoted', { t: '2026-12-01T20:14:12.433509', d: '2026-12-01' }, "{t: '2026-12-01T20:14:12.433509', d: '2026-12-01'}\n"],
  ])('%s', (_, data, text) => {
    expect(dumpYaml(data, KFP)).toBe(text);
  });

  it('folds a long flow sequence after the item that passes column 80', () => {
    const text = dumpYaml({ args: Array.from({ length: 12 }, (_, i) => `--option-${i}`) }, KFP);
    expect(text).toBe(
      'args: [--option-0, --option-1, --option-2, --option-3, --option-4, --option-5, --option-6,\n' +
        '  --option-7, --option-8, --option-9, --option-10, --option-11]\n',
    );
  });

  it('block style with sorted keys, as kfp dumps the PVC manifest', () => {
    const pvc = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', spec: { resources: { requests: { storage: '1Gi' } }, accessModes: ['ReadWriteOnce'] } };
    expect(dumpYaml(pvc, { flow: 'block', sortKeys: true, kfpStrings: false })).toBe(
      'apiVersion: v1\nkind: PersistentVolumeClaim\nspec:\n  accessModes:\n  - ReadWriteOnce\n  resources:\n    requests:\n      storage: 1Gi\n',
    );
  });

  it.each([
    [0.1, '0.1'],
    [1, '1.0'],
    [1e16, '1e+16'],
    [1.5e-5, '1.5e-05'],
    [123456.789, '123456.789'],
    [0.0001, '0.0001'],
  ])('Python repr of float %d is %s', (x, s) => {
    expect(pythonFloatRepr(x)).toBe(s);
  });
});
