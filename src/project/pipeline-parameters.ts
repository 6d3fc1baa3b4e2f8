/**
 * A pipeline's parameter values for a run, local or on KFP: declared defaults overridden by the
 * values given (`--param k=v`), each checked against its type, as text.
 */
import { ConfigError } from '../errors.js';
import type { Pipeline, TypedValue } from './model.js';
import { typedValue } from './model.js';

/** Parameter values for a run: declared defaults overridden by `--param k=v`, each checked against its type. */
export function resolveParameters(pipeline: Pipeline, overrides: Record<string, string>): Record<string, string> {
  const declared = new Map(pipeline.parameters.map((p) => [p.name, p]));
  const problems = Object.entries(overrides).flatMap(([k, v]) => {
    const p = declared.get(k);
    if (!p)
      return [{ file: '--param', path: k, message: `unknown pipeline parameter (declared in ${pipeline.file}: ${[...declared.keys()].join(', ') || 'none'})` }];
    const typed = typedValue(v, p.type);
    return 'error' in typed ? [{ file: '--param', path: k, message: `${typed.error} (the parameter is ${p.type})` }] : [];
  });
  const values: Record<string, string> = {};
  for (const p of pipeline.parameters) {
    const v = overrides[p.name] ?? (p.default === undefined ? undefined : stringValue(p.default));
    if (v === undefined) problems.push({ file: '--param', path: p.name, message: `has no default in ${pipeline.file}; pass --param ${p.name}=VALUE` });
    else values[p.name] = v;
  }
  if (problems.length) throw new ConfigError(problems);
  return values;
}

/** A value as text: objects and lists as JSON. */
export function stringValue(v: TypedValue): string {
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
