/**
 * KFP v1 placeholders read once into `CommandItem`s, for the pipeline spec and for local runs. What
 * neither can express (artifact placeholders, `if` on anything but `isPresent`) is a problem found
 * at load time, with the key's location, before anything is built.
 */
import type { Placeholder } from './component-schema.js';
import type { CommandItem } from './model.js';

export type PlaceholderProblem = (path: (string | number)[], message: string) => void;

export function readCommandItems(items: Placeholder[], path: (string | number)[], problem: PlaceholderProblem): CommandItem[] {
  return items.flatMap((p, i) => readItem(p, [...path, i], problem));
}

/** An env value: one placeholder, read as one item (a constant `if` may leave several, joined). */
export function readEnvValue(value: Placeholder, path: (string | number)[], problem: PlaceholderProblem): CommandItem {
  const items = readItem(value, path, problem);
  return items.length === 1 ? items[0]! : { kind: 'concat', parts: items };
}

/** One placeholder; an `if` with a constant condition is resolved here, so it may become any number of items. */
function readItem(p: Placeholder, path: (string | number)[], problem: PlaceholderProblem): CommandItem[] {
  if (typeof p === 'string') return [{ kind: 'literal', text: p }];
  if ('inputValue' in p) return [{ kind: 'input', input: p.inputValue }];
  if ('concat' in p) return [{ kind: 'concat', parts: readCommandItems(p.concat, [...path, 'concat'], problem) }];
  if ('if' in p) {
    const branch = (x: Placeholder | Placeholder[] | undefined, key: string) =>
      x === undefined ? [] : readCommandItems(Array.isArray(x) ? x : [x], [...path, 'if', key], problem);
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
  problem([...path, key], `${key} placeholders (file artifacts) cannot be used by a pipeline step yet; pass paths as input values on the shared volume`);
  return [];
}

/** The item as a KFP v2 command-line string. */
export function renderV2(item: CommandItem, inputParameter: (input: string) => string): string {
  switch (item.kind) {
    case 'literal':
      return item.text;
    case 'input':
      return inputParameter(item.input);
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

/** The items with input values filled in, for a local run; an input without a value is "not present". */
export function resolveCommandItems(items: CommandItem[], values: Record<string, string>): { args: string[] } | { missing: string } {
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
      case 'concat':
        return [item.parts.flatMap(resolve).join('')];
      case 'if-present':
        return (values[item.input] !== undefined ? item.then : item.else).flatMap(resolve);
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
