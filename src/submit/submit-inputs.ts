/** What `submit` checks before its first request: the spec files, the parameters as each API takes them, the poll interval. */

import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { UsageError } from '../errors.js';
import type { KfpApi } from '../events.js';
import type { TypedValue } from '../model/typed-value.js';
import type { Pipeline, PipelineParameter } from '../project/model.js';
import { typedValue } from '../project/model.js';

/** The spec file of an API, or exit 2 naming the command that writes it. */
export function requireSpec(path: string, api: KfpApi, root: string): string {
  if (existsSync(path)) return path;
  const rel = relative(root, path);
  if (api === 'v1beta1') {
    throw new UsageError(`${rel} (the KFP v1 package a KFP 1.x server runs) is missing`, {
      remedy: { kind: 'write-specs', spec: 'v1-package', problem: 'missing' },
    });
  }
  throw new UsageError(`${rel} (the KFP v2 pipeline spec) is missing`, { remedy: { kind: 'write-specs', spec: 'v2-spec', problem: 'missing' } });
}

/** Parameter values as each API takes them: typed JSON for v2beta1, text for v1beta1 (as kfp 1.8 writes them: `True`, `0.5`). */
export function typedParameters(pipeline: Pipeline, values: Record<string, string>): { typed: Record<string, TypedValue>; text: Record<string, string> } {
  const typed: Record<string, TypedValue> = {};
  const text: Record<string, string> = {};
  for (const p of pipeline.parameters) {
    const raw = values[p.name]!;
    const read = typedValue(raw, p.type);
    // resolveParameters checked every value against its type.
    const value = 'value' in read ? read.value : raw;
    typed[p.name] = value;
    text[p.name] = v1Text(value, p);
  }
  return { typed, text };
}

function v1Text(value: TypedValue, p: PipelineParameter): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return p.type === 'NUMBER_DOUBLE' && Number.isInteger(value) ? `${value}.0` : String(value);
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** A spec older than pipeline.yaml (a parameter added since) would run without it: refused, naming the parameter. */
export function checkDeclaredParameters(pipeline: Pipeline, content: Buffer, file: string, api: KfpApi, root: string): void {
  const rel = relative(root, file);
  let declared: string[];
  try {
    const doc: unknown = parseAllDocuments(content.toString('utf8'))[0]?.toJS();
    if (!doc || typeof doc !== 'object') throw new Error('no YAML document');
    declared =
      api === 'v2beta1'
        ? Object.keys(at(doc, 'root', 'inputDefinitions', 'parameters') ?? {})
        : ((at(doc, 'spec', 'arguments', 'parameters') as { name?: unknown }[] | undefined) ?? []).map((x) => String(x?.name));
  } catch (e) {
    throw new UsageError(`${rel}: not a pipeline spec (${(e as Error).message})`, {
      remedy: { kind: 'write-specs', spec: specOf(api), problem: 'unreadable' },
    });
  }
  const missing = pipeline.parameters.map((p) => p.name).filter((n) => !declared.includes(n));
  if (missing.length) {
    throw new UsageError(`${rel} is older than pipeline.yaml: it has no parameter ${missing.join(', ')}`, {
      remedy: { kind: 'write-specs', spec: specOf(api), problem: 'stale' },
    });
  }
}

function specOf(api: KfpApi): 'v2-spec' | 'v1-package' {
  return api === 'v1beta1' ? 'v1-package' : 'v2-spec';
}

/** `doc.a.b.c` when every step is an object, else undefined. */
function at(doc: unknown, ...keys: string[]): object | undefined {
  let cur: unknown = doc;
  for (const k of keys) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur && typeof cur === 'object' ? cur : undefined;
}

export function pollInterval(env: NodeJS.ProcessEnv): number {
  const raw = env.HELMET_SUBMIT_POLL_SECONDS;
  if (raw === undefined) return 5000;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`HELMET_SUBMIT_POLL_SECONDS takes a number of seconds above 0, got "${raw}"`);
  return n * 1000;
}
