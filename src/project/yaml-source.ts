import { readFileSync } from 'node:fs';
import { type Document, isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from '../errors.js';

/** A parsed YAML file that can say where any of its keys is. */
export class YamlSource {
  private constructor(
    readonly file: string,
    readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parse; syntax errors come back as problems with line and column. */
  static read(file: string, displayName = file): { source?: YamlSource; problems: ConfigProblem[] } {
    const text = readFileSync(file, 'utf8');
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const problems: ConfigProblem[] = doc.errors.map((e) => {
      const { line, col } = lines.linePos(e.pos[0]);
      return { file: displayName, line, column: col, path: '', message: e.message.split('\n')[0]! };
    });
    if (problems.length) return { problems };
    return { source: new YamlSource(displayName, doc, lines), problems: [] };
  }

  toJS(): unknown {
    return this.doc.toJS();
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
