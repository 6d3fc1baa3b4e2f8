/**
 * KFP v1 placeholders read once into `CommandItem`s, for the pipeline spec and for local runs, with
 * the checks KFP's v2 SDK makes of a v1 component: `inputValue` needs a parameter input, `inputPath`
 * and `inputUri` an artifact input, `outputUri` an artifact output; `if` can only test `isPresent`
 * (or a constant). What breaks them is a problem found at load time, with the key's location.
 */
import type { Placeholder } from './component-schema.js';
import type { CommandItem } from './model.js';

export type PlaceholderProblem = (path: (string | number)[], message: string) => void;

/** Whether each input and output of the component is a parameter or an artifact. */
export interface IoKinds {
  inputs: Map<string, 'parameter' | 'artifact'>;
  outputs: Map<string, 'parameter' | 'artifact'>;
}

export function readCommandItems(items: Placeholder[], path: (string | number)[], io: IoKinds, problem: PlaceholderProblem): CommandItem[] {
  return items.flatMap((p, i) => readItem(p, [...path, i], io, problem));
}

/** An env value: one placeholder, read as one item (a constant `if` may leave several, joined). */
export function readEnvValue(value: Placeholder, path: (string | number)[], io: IoKinds, problem: PlaceholderProblem): CommandItem {
  const items = readItem(value, path, io, problem);
  return items.length === 1 ? items[0]! : { kind: 'concat', parts: items };
}

/** One placeholder; an `if` with a constant condition is resolved here, so it may become any number of items. */
function readItem(p: Placeholder, path: (string | number)[], io: IoKinds, problem: PlaceholderProblem): CommandItem[] {
  if (typeof p === 'string') return [{ kind: 'literal', text: p }];
  if ('inputValue' in p) {
    if (io.inputs.get(p.inputValue) === 'artifact') {
      problem(
        [...path, 'inputValue'],
        `input "${p.inputValue}" is a file (its type is not a parameter type such as String or Integer): use {inputPath: ${p.inputValue}}, or give it a parameter type`,
      );
    }
    return [{ kind: 'input', input: p.inputValue }];
  }
  if ('inputPath' in p || 'inputUri' in p) {
    const [key, input] = 'inputPath' in p ? (['inputPath', p.inputPath] as const) : (['inputUri', p.inputUri] as const);
    if (io.inputs.get(input) === 'parameter') {
      problem(
        [...path, key],
        `input "${input}" is a parameter (a value, by its type): use {inputValue: ${input}}, or give it a file type such as Dataset, Model or Artifact`,
      );
    }
    return [{ kind: 'input-file', input, as: key === 'inputPath' ? 'path' : 'uri' }];
  }
  if ('outputPath' in p) {
    return [{ kind: 'output-file', output: p.outputPath, as: io.outputs.get(p.outputPath) === 'parameter' ? 'parameter' : 'path' }];
  }
  if ('outputUri' in p) {
    if (io.outputs.get(p.outputUri) === 'parameter')
      problem([...path, 'outputUri'], `output "${p.outputUri}" is a parameter (a value, by its type): use {outputPath: ${p.outputUri}}`);
    return [{ kind: 'output-file', output: p.outputUri, as: 'uri' }];
  }
  if ('executorInput' in p) return [{ kind: 'executor-input' }];
  if ('concat' in p) return [{ kind: 'concat', parts: readCommandItems(p.concat, [...path, 'concat'], io, problem) }];
  if ('if' in p) {
    const branch = (x: Placeholder | Placeholder[] | undefined, key: string) =>
      x === undefined ? [] : readCommandItems(Array.isArray(x) ? x : [x], [...path, 'if', key], io, problem);
    const cond = p.if.cond;
    if (typeof cond === 'boolean' || typeof cond === 'string') {
      const truth = typeof cond === 'boolean' ? cond : cond.toLowerCase() === 'true';
      return truth ? branch(p.if.then, 'then') : branch(p.if.else, 'else');
    }
    if ('isPresent' in cond) return [{ kind: 'if-present', input: cond.isPresent, then: branch(p.if.then, 'then'), else: branch(p.if.else, 'else') }];
    problem([...path, 'if', 'cond'], 'a pipeline step can only use "if" with a constant or {isPresent: input} condition');
    return [];
  }
  const key = Object.keys(p)[0]!;
  problem([...path, key], `${key} placeholders cannot be used by a pipeline step`);
  return [];
}

/** The item as a KFP v2 command-line string. */
export function renderV2(item: CommandItem, inputParameter: (input: string) => string): string {
  switch (item.kind) {
    case 'literal':
      return item.text;
    case 'input':
      return inputParameter(item.input);
    case 'input-file':
      return `{{$.inputs.artifacts['${sanitizeInputName(item.input)}'].${item.as}}}`;
    case 'output-file':
      return item.as === 'parameter'
        ? `{{$.outputs.parameters['${sanitizeInputName(item.output)}'].output_file}}`
        : `{{$.outputs.artifacts['${sanitizeInputName(item.output)}'].${item.as}}}`;
    case 'executor-input':
      return '{{$}}';
    case 'concat':
      return item.parts.map((x) => renderV2(x, inputParameter)).join('');
    case 'if-present':
      return JSON.stringify({
        IfPresent: {
          InputName: sanitizeInputName(item.input),
          Then: item.then.map((x) => renderV2(x, inputParameter)),
          Else: item.else.map((x) => renderV2(x, inputParameter)),
        },
      });
  }
}

/** Where a local run keeps the files of a step: input files by input name, output files by output name. */
export interface LocalFiles {
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

/** The items with input values and file paths filled in, for a local run; an input without a value is "not present". */
export function resolveCommandItems(
  items: CommandItem[],
  values: Record<string, string>,
  files: LocalFiles = { inputs: {}, outputs: {} },
): { args: string[] } | { missing: string } {
  const out: string[] = [];
  let missing: string | undefined;
  const resolve = (item: CommandItem): string[] => {
    switch (item.kind) {
      case 'literal':
        return [item.text];
      case 'input': {
        const v = values[item.input];
        if (v === undefined) missing ??= item.input;
        return [v ?? ''];
      }
      case 'input-file': {
        const path = files.inputs[item.input];
        if (path === undefined) missing ??= item.input;
        return [path ?? ''];
      }
      case 'output-file':
        return [files.outputs[item.output]!];
      case 'executor-input':
        // Refused before a local run starts (usesExecutorInput); only KFP's launcher can fill it.
        throw new Error('executorInput placeholder in a local run');
      case 'concat':
        return [item.parts.flatMap(resolve).join('')];
      case 'if-present':
        return (values[item.input] !== undefined || files.inputs[item.input] !== undefined ? item.then : item.else).flatMap(resolve);
    }
  };
  for (const item of items) out.push(...resolve(item));
  return missing === undefined ? { args: out } : { missing };
}

/** KFP's own rule for turning v1 input names into v2 parameter names. */
export function sanitizeInputName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^-_0-9a-z]+/g, '_')
    .replace(/-/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** Whether any of the items is (or contains) the executor input, which only KFP's launcher can provide. */
export function usesExecutorInput(items: CommandItem[]): boolean {
  return items.some((item) =>
    item.kind === 'executor-input'
      ? true
      : item.kind === 'concat'
        ? usesExecutorInput(item.parts)
        : item.kind === 'if-present' && (usesExecutorInput(item.then) || usesExecutorInput(item.else)),
  );
}
