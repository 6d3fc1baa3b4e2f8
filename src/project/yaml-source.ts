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

  /** Turn zod issues into problems that name file, line, column and key. */
  problemsFrom(issues: readonly z.core.$ZodIssue[], allowedKeysAt: (path: readonly PropertyKey[]) => string[] | undefined = () => undefined): ConfigProblem[] {
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

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `required key is missing (expected ${issue.expected})`;
  if (issue.code === 'invalid_union') return 'is not valid here (expected a string or one of the KFP placeholders)';
  return issue.message;
}
