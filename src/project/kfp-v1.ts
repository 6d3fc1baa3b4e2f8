/**
 * What a KFP v1 pipeline cannot express. Every push also writes the pipeline as kfp 1.8.22's compiler
 * would (dist/<name>.v1.yaml), so what that compiler refuses, or has no way to say, is a problem found
 * when the pipeline is loaded, with the key's location — never a part silently left out of the package.
 * One exception: the placeholders only KFP v2's launcher fills (`executorInput`, `inputUri`, `outputUri`) stay
 * accepted for the v2 spec; a pipeline using them gets no v1 package, and a warning says why (`v2OnlyPlaceholders`).
 * The rules are kfp's own (sdk/python/kfp at 1.8.22): `dsl/_container_op.py` (op, parameter and output
 * names; cpu and memory strings), `dsl/_volume_op.py` (the volume size), `components/_components.py` and
 * `dsl/_component_bridge.py` (placeholders, `int()`/`float()` of defaults, `strtobool` of `if` conditions,
 * env values as plain text).
 */
import type { ComponentFile, Placeholder } from './component-schema.js';
import type { PipelineFile } from './pipeline-schema.js';

type Report = (path: (string | number)[], message: string) => void;

/** Python's `int()` of a text, as its decimal digits, or undefined where Python refuses it. */
export function pythonInt(text: string): string | undefined {
  const m = /^\s*([+-]?)(\d+(?:_\d+)*)\s*$/.exec(text);
  if (!m) return undefined;
  const digits = BigInt(m[2]!.replace(/_/g, '')).toString();
  return m[1] === '-' && digits !== '0' ? `-${digits}` : digits;
}

/** Python's `float()` of a text, or undefined where Python refuses it. */
export function pythonFloat(text: string): number | undefined {
  const t = text.trim().replace(/(\d)_(?=\d)/g, '$1');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return Number.NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/** Python's `strtobool`, or undefined for a text that is no truth value. */
export function pythonStrtobool(text: string): boolean | undefined {
  const v = text.toLowerCase();
  if (['y', 'yes', 't', 'true', 'on', '1'].includes(v)) return true;
  if (['n', 'no', 'f', 'false', 'off', '0'].includes(v)) return false;
  return undefined;
}

const V1 = 'KFP v1 cannot express this (dist/<pipeline>.v1.yaml)';
/** BaseOp and PipelineParam names. */
const KFP_NAME = /^[A-Za-z][A-Za-z0-9\s_-]*$/;
/** `_validate_size_string` / `_validate_memory_string`. */
const KFP_SIZE = /^[0-9]+(E|Ei|P|Pi|T|Ti|G|Gi|M|Mi|K|Ki)?$/;

/** pipeline.yaml's own keys: names, the volume size, cpu and memory strings. */
export function pipelineV1Problems(spec: PipelineFile, at: Report): void {
  for (const name of Object.keys(spec.parameters)) {
    if (!KFP_NAME.test(name)) at(['parameters', name], `${V1}: a pipeline parameter name must begin with a letter`);
  }
  if (spec.volume && !KFP_NAME.test(spec.volume.name)) at(['volume', 'name'], `${V1}: the volume (a VolumeOp) needs a name that begins with a letter`);
  if (spec.volume && !KFP_SIZE.test(spec.volume.size))
    at(['volume', 'size'], `${V1}: a VolumeOp size is an integer with one of the suffixes E, P, T, G, M, K (or Ei … Ki), e.g. 10Gi`);
  for (const [name, step] of Object.entries(spec.steps)) {
    if (!KFP_NAME.test(name)) at(['steps', name], `${V1}: a step (an op) needs a name that begins with a letter`);
    const r = step.resources;
    for (const key of ['memory', 'memoryLimit'] as const) {
      if (r?.[key] !== undefined && !KFP_SIZE.test(String(r[key])))
        at(['steps', name, 'resources', key], `${V1}: memory is an integer with one of the suffixes E, P, T, G, M, K (or Ei … Ki), e.g. 8G`);
    }
    for (const key of ['cpu', 'cpuLimit'] as const) {
      const v = r?.[key];
      if (v !== undefined && !/^[0-9]+m$/.test(String(v)) && pythonFloat(String(v)) === undefined)
        at(['steps', name, 'resources', key], `${V1}: cpu is a number or an integer followed by m, e.g. 2 or 500m`);
    }
  }
}

/** A step's component: placeholders only the v2 launcher fills, env values, output names, defaults the bridge converts. */
export function componentV1Problems(spec: ComponentFile, givenInputs: ReadonlySet<string>, at: Report): void {
  const container = spec.implementation.container;
  walkPlaceholders(spec, (p, path) => {
    if (typeof p !== 'object' || p === null || !('if' in p)) return;
    const cond = p.if.cond;
    if (typeof cond === 'string' && pythonStrtobool(cond) === undefined)
      at([...path, 'if', 'cond'], `${V1}: kfp reads a constant condition with strtobool: use true or false (or yes/no, on/off, 1/0)`);
  });
  for (const [name, value] of Object.entries(container.env ?? {})) {
    if (typeof value !== 'string') at(['implementation', 'container', 'env', name], `${V1}: a v1 component's env values are plain text, without placeholders`);
  }
  (spec.outputs ?? []).forEach((output, i) => {
    if (!KFP_NAME.test(output.name))
      at(['outputs', i, 'name'], `${V1}: an output name must begin with a letter and hold only letters, digits, spaces, _ and -`);
  });
  (spec.inputs ?? []).forEach((input, i) => {
    if (givenInputs.has(input.name) || input.default === undefined || input.default === null) return;
    const d = String(input.default);
    if (input.type === 'Integer' && pythonInt(d) === undefined)
      at(['inputs', i, 'default'], `${V1}: kfp passes this default through int(), which does not read "${d}"; write it as a plain integer`);
    if (input.type === 'Float' && pythonFloat(d) === undefined)
      at(['inputs', i, 'default'], `${V1}: kfp passes this default through float(), which does not read "${d}"; write it as a decimal number`);
  });
}

/** Every placeholder of the command line, nested ones included, with its key path in component.yaml. */
function walkPlaceholders(spec: ComponentFile, visit: (p: Placeholder, path: (string | number)[]) => void): void {
  const walk = (p: Placeholder, path: (string | number)[]) => {
    visit(p, path);
    if (typeof p !== 'object' || p === null) return;
    if ('concat' in p) p.concat.forEach((x, i) => walk(x, [...path, 'concat', i]));
    if ('if' in p) {
      if (typeof p.if.cond === 'object') walk(p.if.cond, [...path, 'if', 'cond']);
      for (const branch of ['then', 'else'] as const) {
        const b = p.if[branch];
        if (Array.isArray(b)) b.forEach((x, i) => walk(x, [...path, 'if', branch, i]));
        else if (b !== undefined) walk(b, [...path, 'if', branch]);
      }
    }
  };
  const container = spec.implementation.container;
  for (const key of ['command', 'args'] as const) container[key]?.forEach((p, i) => walk(p, ['implementation', 'container', key, i]));
}

/** The placeholders of a component that only KFP v2's launcher fills, as key paths (e.g. implementation.container.args.1.executorInput). */
export function v2OnlyPlaceholders(spec: ComponentFile): string[] {
  const found: string[] = [];
  walkPlaceholders(spec, (p, path) => {
    if (typeof p !== 'object' || p === null) return;
    for (const key of ['inputUri', 'outputUri', 'executorInput']) if (key in p) found.push([...path, key].join('.'));
  });
  return found;
}
