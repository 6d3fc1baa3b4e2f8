import type { Placeholder } from '../project/component-schema.js';

/**
 * Resolve a v1 command line for a local run: `values` holds every input that has a value
 * (given or defaulted); an input without one is "not present" for `isPresent`.
 */
export function resolveCommandLine(items: Placeholder[] | undefined, values: Record<string, string>, where: string): string[] | undefined {
  if (!items) return undefined;
  return items.flatMap((p) => resolveItem(p, values, where));
}

function resolveItem(p: Placeholder, values: Record<string, string>, where: string): string[] {
  if (typeof p === 'string') return [p];
  if ('inputValue' in p) {
    const v = values[p.inputValue];
    if (v === undefined) throw new Error(`${where}: input "${p.inputValue}" has no value; give it in pipeline.yaml`);
    return [v];
  }
  if ('concat' in p) return [p.concat.flatMap((x) => resolveItem(x, values, where)).join('')];
  if ('if' in p) {
    const cond = p.if.cond;
    let truth: boolean;
    if (typeof cond === 'boolean') truth = cond;
    else if (typeof cond === 'string') truth = cond.toLowerCase() === 'true';
    else if ('isPresent' in cond) truth = values[cond.isPresent] !== undefined;
    else truth = resolveItem(cond, values, where).join('').toLowerCase() === 'true';
    const branch = truth ? p.if.then : p.if.else;
    if (branch === undefined) return [];
    return (Array.isArray(branch) ? branch : [branch]).flatMap((x) => resolveItem(x, values, where));
  }
  throw new Error(`${where}: ${Object.keys(p)[0]} placeholders are not supported by local runs; pass paths as input values on the shared volume`);
}
