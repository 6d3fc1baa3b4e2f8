import { readFileSync } from 'node:fs';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from '../errors.js';

/** Deeper than any component.yaml or pipeline.yaml needs; far below what exhausts the stack. */
const MAX_DEPTH = 64;
/** yaml's own default: enough for hand-written anchors, not for exponential expansion. */
const MAX_ALIAS_COUNT = 100;

/** The text, or the line of the first byte that is not UTF-8. */
function decodeUtf8(bytes: Buffer): string | { line: number } {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const bad = lenient.indexOf('\uFFFD');
    return { line: lenient.slice(0, Math.max(bad, 0)).split('\n').length };
  }
}

function readableParseError(message: string): string {
  return /call stack/i.test(message) ? `nested more than ${MAX_DEPTH} levels deep` : message;
}

/** The path of the first value nested deeper than MAX_DEPTH, walked without recursion. */
function firstTooDeep(root: unknown): (string | number)[] | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: root, path: [] }];
  while (stack.length) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_DEPTH) return path;
    for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, Array.isArray(value) ? Number(k) : k] });
  }
  return undefined;
}

/** A parsed YAML file that can say where any of its keys is. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    private readonly value: unknown,
  ) {}

  /**
   * Parse; syntax errors come back as problems with line and column, and so does input no
   * configuration needs and that could exhaust the reader: text that is not UTF-8, aliases that
   * expand without bound ("billion laughs"), nesting deeper than MAX_DEPTH.
   */
  static read(file: string, displayName = file): { source?: YamlSource; problems: ConfigProblem[] } {
    const bytes = readFileSync(file);
    const text = decodeUtf8(bytes);
    if (typeof text !== 'string') {
      return { problems: [{ file: displayName, line: text.line, path: '', message: 'is not UTF-8 text: save the file as UTF-8' }] };
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const problems: ConfigProblem[] = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { file: displayName, line, column: col, path: '', message: readableParseError(e.message.split('\n')[0]!) };
    });
    if (problems.length) return { problems };
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const message = e instanceof Error && /alias/i.test(e.message) ? 'aliases (*name) expand too far: write the values out' : String(e);
      return { problems: [{ file: displayName, path: '', message }] };
    }
    const deep = firstTooDeep(value);
    if (deep) {
      const source = new YamlSource(displayName, doc, lines, value);
      return {
        problems: [{ file: displayName, ...source.locate(deep), path: `${deep.slice(0, 4).join('.')}…`, message: `nested more than ${MAX_DEPTH} levels deep` }],
      };
    }
    return { source: new YamlSource(displayName, doc, lines, value), problems: [] };
  }

  /** The document as plain data (read once; aliases resolved). */
  toJS(): unknown {
    return this.value;
  }

  /** Position of the node at `path`, or of its nearest ancestor that exists. */
  locate(path: readonly PropertyKey[]): { line?: number; column?: number } {
    for (let n = path.length; n >= 0; n--) {
      const sub = path.slice(0, n) as (string | number)[];
      // For a key, point at the key itself: more useful than at its value.
      const node = n === 0 ? this.doc.contents : this.doc.getIn(sub, true);
      if (isNode(node) && node.range) {
        const keyPos = n > 0 ? this.keyOffset(sub) : undefined;
        const { line, col } = this.lines.linePos(keyPos ?? node.range[0]);
        return { line, column: col };
      }
      if (n > 0) {
        const keyPos = this.keyOffset(sub);
        if (keyPos !== undefined) {
          const { line, col } = this.lines.linePos(keyPos);
          return { line, column: col };
        }
      }
    }
    return {};
  }

  private keyOffset(path: (string | number)[]): number | undefined {
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    const items = (parent as { items?: unknown[] } | null)?.items;
    if (!Array.isArray(items) || typeof last !== 'string') return undefined;
    for (const item of items) {
      const key = (item as { key?: { value?: unknown; range?: [number, number, number] } }).key;
      if (key && key.value === last && key.range) return key.range[0];
    }
    return undefined;
  }

  /**
   * Validate `value` (the document, or a copy adjusted before validation) against `schema`; zod's
   * issues become problems that name file, line, column and key, and say what was found where the
   * schema expects something else.
   */
  check<S extends z.ZodType>(
    schema: S,
    value: unknown = this.value,
    allowedKeysAt: (path: readonly PropertyKey[]) => string[] | undefined = () => undefined,
  ): { data?: z.output<S>; problems: ConfigProblem[] } {
    // reportInput: each issue carries the value it is about, so a wrong type is told from a missing key.
    const parsed = schema.safeParse(value, { reportInput: true });
    if (parsed.success) return { data: parsed.data, problems: [] };
    return { problems: this.problemsFrom(parsed.error.issues, allowedKeysAt) };
  }

  private problemsFrom(issues: readonly z.core.$ZodIssue[], allowedKeysAt: (path: readonly PropertyKey[]) => string[] | undefined): ConfigProblem[] {
    return issues.flatMap((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          file: this.file,
          ...this.locate([...issue.path, key]),
          path: [...issue.path, key].join('.'),
          message: `unknown key "${key}"${allowedHint(allowedKeysAt(issue.path))}`,
        }));
      }
      return [{ file: this.file, ...this.locate(issue.path), path: issue.path.join('.'), message: describeIssue(issue) }];
    });
  }
}

function allowedHint(allowed: string[] | undefined): string {
  return allowed?.length ? ` (allowed here: ${allowed.join(', ')})` : '';
}

/** zod's default message of a union no branch of which fits; a union with a message of its own names what it expects. */
const DEFAULT_UNION_MESSAGE = 'Invalid input';

/** The schema types, in the words of a YAML file. */
const TYPE_NAMES: Record<string, string> = {
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true/false',
  null: 'an empty value (null)',
};

function expectedName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** What a value is, in the same words; `root` for the document itself. */
function foundName(value: unknown, root: boolean): string {
  if (value === null) return root ? 'nothing (the file is empty)' : 'an empty value';
  if (Array.isArray(value)) return value.length ? 'a list' : 'an empty list';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'object') return 'a mapping';
  return typeof value;
}

/** What to do about the usual mix-ups, after the message. */
function typeHint(expected: string, value: unknown): string {
  if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return '; put it in quotes to make it a string';
  if (expected === 'array' && value !== null && typeof value !== 'object') return '; write a list: [a, b], or one "- item" per line';
  return '';
}

function joinOr(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * What a union expects, when every branch refused the value for its type alone (not for a key or a
 * check inside): its own message if it has one, else its branches' types.
 */
function unionExpects(issue: z.core.$ZodIssueInvalidUnion): string | undefined {
  const own = issue.message !== DEFAULT_UNION_MESSAGE ? issue.message : undefined;
  const names: string[] = [];
  for (const branch of issue.errors) {
    const only = branch.length === 1 && branch[0]!.path.length === 0 ? branch[0]! : undefined;
    const name = only?.code === 'invalid_type' ? expectedName(only.expected) : only?.code === 'invalid_union' ? unionExpects(only) : undefined;
    if (name === undefined) return undefined;
    if (!names.includes(name)) names.push(name);
  }
  return own ?? joinOr(names);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const root = issue.path.length === 0;
  if (issue.code === 'invalid_type') {
    if (issue.input === undefined) return `required key is missing (expected ${expectedName(issue.expected)})`;
    return `expected ${expectedName(issue.expected)}, got ${foundName(issue.input, root)}${typeHint(issue.expected, issue.input)}`;
  }
  if (issue.code === 'invalid_union') {
    const expects = unionExpects(issue);
    const own = issue.message !== DEFAULT_UNION_MESSAGE ? issue.message : undefined;
    if (issue.input === undefined) return `required key is missing${expects || own ? ` (expected ${expects ?? own})` : ''}`;
    if (expects) return `expected ${expects}, got ${foundName(issue.input, root)}`;
    return `is not valid here${own ? ` (expected ${own})` : ''}`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1) return 'must not be empty';
  // A key of a mapping of names (steps, parameters) that is not a name: say why, not "Invalid key in record".
  if (issue.code === 'invalid_key' && issue.issues.length) return `is not a valid name here: ${issue.issues.map((i) => i.message).join('; ')}`;
  return issue.message;
}
