/**
 * YAML text as PyYAML's `yaml.dump` writes it (PyYAML 5/6, `yaml.Dumper`, width 80, indent 2,
 * `allow_unicode=False`), so that a KFP v1 pipeline package is byte-for-byte what kfp 1.8.22 writes:
 * the same choice of flow or block collections, of plain, quoted or literal scalars, and the same line
 * folding. A port of the parts of PyYAML's representer, resolver and emitter that plain data meets
 * (mappings, sequences, strings, integers, floats, booleans, null); anchors and tags never occur.
 */

import { type Analysis, analyze, BREAKS } from './pyyaml-analysis.js';
import { type DumpOptions, type Node, represent, resolvePlain, type YamlData } from './pyyaml-represent.js';

export { type DumpOptions, pythonFloatRepr, type YamlData } from './pyyaml-represent.js';

const ESCAPES: Record<string, string> = {
  '\0': '0',
  '\x07': 'a',
  '\x08': 'b',
  '\x09': 't',
  '\x0A': 'n',
  '\x0B': 'v',
  '\x0C': 'f',
  '\x0D': 'r',
  '\x1B': 'e',
  '"': '"',
  '\\': '\\',
  '\x85': 'N',
  '\xA0': '_',
  '\u2028': 'L',
  '\u2029': 'P',
};

interface Context {
  root?: boolean;
  sequence?: boolean;
  mapping?: boolean;
  simpleKey?: boolean;
}

class Emitter {
  private out = '';
  private indents: (number | undefined)[] = [];
  private indent: number | undefined;
  private flowLevel = 0;
  private column = 0;
  private whitespace = true;
  private indention = true;
  private readonly bestWidth = 80;
  private readonly bestIndent = 2;
  private simpleKeyContext = false;

  emitDocument(root: Node): string {
    this.node(root, { root: true });
    this.writeIndent();
    return this.out;
  }

  private write(data: string): void {
    this.out += data;
    this.column += Array.from(data).length;
  }

  private increaseIndent(flow: boolean, indentless = false): void {
    this.indents.push(this.indent);
    if (this.indent === undefined) this.indent = flow ? this.bestIndent : 0;
    else if (!indentless) this.indent += this.bestIndent;
  }

  private popIndent(): void {
    this.indent = this.indents.pop();
  }

  private writeIndicator(indicator: string, needWhitespace: boolean, whitespace = false, indention = false): void {
    const data = this.whitespace || !needWhitespace ? indicator : ` ${indicator}`;
    this.whitespace = whitespace;
    this.indention = this.indention && indention;
    this.write(data);
  }

  private writeIndent(): void {
    const indent = this.indent ?? 0;
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.writeLineBreak();
    if (this.column < indent) {
      this.whitespace = true;
      this.write(' '.repeat(indent - this.column));
    }
  }

  private writeLineBreak(data = '\n'): void {
    this.whitespace = true;
    this.indention = true;
    this.out += data;
    this.column = 0;
  }

  private node(n: Node, ctx: Context): void {
    this.simpleKeyContext = ctx.simpleKey ?? false;
    if (n.kind === 'scalar') {
      this.increaseIndent(true);
      this.scalar(n);
      this.popIndent();
    } else if (n.kind === 'seq') {
      if (this.flowLevel || n.flow || n.items.length === 0) this.flowSequence(n.items);
      else this.blockSequence(n.items, ctx);
    } else if (this.flowLevel || n.flow || n.pairs.length === 0) this.flowMapping(n.pairs);
    else this.blockMapping(n.pairs);
  }

  private flowSequence(items: Node[]): void {
    this.writeIndicator('[', true, true);
    this.flowLevel++;
    this.increaseIndent(true);
    items.forEach((item, i) => {
      if (i > 0) this.writeIndicator(',', false);
      if (this.column > this.bestWidth) this.writeIndent();
      this.node(item, { sequence: true });
    });
    this.popIndent();
    this.flowLevel--;
    this.writeIndicator(']', false);
  }

  private flowMapping(pairs: [Node, Node][]): void {
    this.writeIndicator('{', true, true);
    this.flowLevel++;
    this.increaseIndent(true);
    pairs.forEach(([k, v], i) => {
      if (i > 0) this.writeIndicator(',', false);
      if (this.column > this.bestWidth) this.writeIndent();
      if (this.isSimpleKey(k)) {
        this.node(k, { mapping: true, simpleKey: true });
        this.writeIndicator(':', false);
      } else {
        this.writeIndicator('?', true);
        this.node(k, { mapping: true });
        if (this.column > this.bestWidth) this.writeIndent();
        this.writeIndicator(':', true);
      }
      this.node(v, { mapping: true });
    });
    this.popIndent();
    this.flowLevel--;
    this.writeIndicator('}', false);
  }

  private blockSequence(items: Node[], ctx: Context): void {
    this.increaseIndent(false, (ctx.mapping ?? false) && !this.indention);
    for (const item of items) {
      this.writeIndent();
      this.writeIndicator('-', true, false, true);
      this.node(item, { sequence: true });
    }
    this.popIndent();
  }

  private blockMapping(pairs: [Node, Node][]): void {
    this.increaseIndent(false);
    for (const [k, v] of pairs) {
      this.writeIndent();
      if (this.isSimpleKey(k)) {
        this.node(k, { mapping: true, simpleKey: true });
        this.writeIndicator(':', false);
      } else {
        this.writeIndicator('?', true, false, true);
        this.node(k, { mapping: true });
        this.writeIndent();
        this.writeIndicator(':', true, false, true);
      }
      this.node(v, { mapping: true });
    }
    this.popIndent();
  }

  private isSimpleKey(k: Node): boolean {
    // The length PyYAML counts includes the prepared tag (`!!str`, `!!map`, …).
    const tagLength = 5;
    if (k.kind === 'scalar') {
      const a = analyze(k.value);
      return tagLength + Array.from(a.scalar).length < 128 && !a.empty && !a.multiline;
    }
    return tagLength < 128 && (k.kind === 'seq' ? k.items.length === 0 : k.pairs.length === 0);
  }

  private chooseStyle(n: Extract<Node, { kind: 'scalar' }>, a: Analysis): '' | "'" | '"' | '|' {
    if (n.style === '"') return '"';
    const implicitPlain = n.tag === 'str' ? resolvePlain(n.value) === 'str' : true;
    if (n.style === undefined && implicitPlain) {
      if (!(this.simpleKeyContext && (a.empty || a.multiline)) && ((this.flowLevel && a.allowFlowPlain) || (!this.flowLevel && a.allowBlockPlain))) return '';
    }
    if (n.style === '|' && !this.flowLevel && !this.simpleKeyContext && a.allowBlock) return '|';
    if (n.style === undefined && a.allowSingleQuoted && !(this.simpleKeyContext && a.multiline)) return "'";
    return '"';
  }

  private scalar(n: Extract<Node, { kind: 'scalar' }>): void {
    const a = analyze(n.value);
    const style = this.chooseStyle(n, a);
    const split = !this.simpleKeyContext;
    const text = Array.from(a.scalar);
    if (style === '"') this.doubleQuoted(text, split);
    else if (style === "'") this.singleQuoted(text, split);
    else if (style === '|') this.literal(text);
    else this.plain(text, split);
  }

  private plain(text: string[], split: boolean): void {
    if (!text.length) return;
    if (!this.whitespace) this.write(' ');
    this.whitespace = false;
    this.indention = false;
    let spaces = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      if (spaces) {
        if (ch !== ' ') {
          if (start + 1 === end && this.column > this.bestWidth && split) {
            this.writeIndent();
            this.whitespace = false;
            this.indention = false;
          } else this.write(text.slice(start, end).join(''));
          start = end;
        }
      } else if (ch === undefined || ' \n\x85\u2028\u2029'.includes(ch)) {
        this.write(text.slice(start, end).join(''));
        start = end;
      }
      // Plain scalars never hold line breaks (the analysis forbids it).
      if (ch !== undefined) spaces = ch === ' ';
    }
  }

  private singleQuoted(text: string[], split: boolean): void {
    this.writeIndicator("'", true);
    let spaces = false;
    let breaks = false;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      if (spaces) {
        if (ch === undefined || ch !== ' ') {
          if (start + 1 === end && this.column > this.bestWidth && split && start !== 0 && end !== text.length) this.writeIndent();
          else this.write(text.slice(start, end).join(''));
          start = end;
        }
      } else if (breaks) {
        if (ch === undefined || !BREAKS.includes(ch)) {
          if (text[start] === '\n') this.writeLineBreak();
          for (const br of text.slice(start, end)) this.writeLineBreak(br);
          this.writeIndent();
          start = end;
        }
      } else if (ch === undefined || ' \n\x85\u2028\u2029'.includes(ch) || ch === "'") {
        if (start < end) {
          this.write(text.slice(start, end).join(''));
          start = end;
        }
      }
      if (ch === "'") {
        this.write("''");
        start = end + 1;
      }
      if (ch !== undefined) {
        spaces = ch === ' ';
        breaks = BREAKS.includes(ch);
      }
    }
    this.writeIndicator("'", false);
  }

  private doubleQuoted(text: string[], split: boolean): void {
    this.writeIndicator('"', true);
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      const cp = ch?.codePointAt(0) ?? 0;
      if (ch === undefined || '"\\\x85\u2028\u2029\uFEFF'.includes(ch) || !(cp >= 0x20 && cp <= 0x7e)) {
        if (start < end) {
          this.write(text.slice(start, end).join(''));
          start = end;
        }
        if (ch !== undefined) {
          const hex = cp.toString(16).toUpperCase();
          const data =
            ch in ESCAPES
              ? `\\${ESCAPES[ch]}`
              : cp <= 0xff
                ? `\\x${hex.padStart(2, '0')}`
                : cp <= 0xffff
                  ? `\\u${hex.padStart(4, '0')}`
                  : `\\U${hex.padStart(8, '0')}`;
          this.write(data);
          start = end + 1;
        }
      }
      if (end > 0 && end < text.length - 1 && (ch === ' ' || start >= end) && this.column + (end - start) > this.bestWidth && split) {
        this.write(`${text.slice(start, end).join('')}\\`);
        if (start < end) start = end;
        this.writeIndent();
        this.whitespace = false;
        this.indention = false;
        if (text[start] === ' ') this.write('\\');
      }
    }
    this.writeIndicator('"', false);
  }

  private literal(text: string[]): void {
    let hints = '';
    if (' \n\x85\u2028\u2029'.includes(text[0]!)) hints += String(this.bestIndent);
    const last = text[text.length - 1]!;
    if (!BREAKS.includes(last)) hints += '-';
    else if (text.length === 1 || BREAKS.includes(text[text.length - 2]!)) hints += '+';
    this.writeIndicator(`|${hints}`, true);
    this.writeLineBreak();
    let breaks = true;
    let start = 0;
    for (let end = 0; end <= text.length; end++) {
      const ch = end < text.length ? text[end] : undefined;
      if (breaks) {
        if (ch === undefined || !BREAKS.includes(ch)) {
          for (const br of text.slice(start, end)) this.writeLineBreak(br);
          if (ch !== undefined) this.writeIndent();
          start = end;
        }
      } else if (ch === undefined || BREAKS.includes(ch)) {
        this.write(text.slice(start, end).join(''));
        if (ch === undefined) this.writeLineBreak();
        start = end;
      }
      if (ch !== undefined) breaks = BREAKS.includes(ch);
    }
  }
}

/** One YAML document, as `yaml.dump(data, **options)` writes it. */
export function dumpYaml(data: YamlData, options: DumpOptions): string {
  return new Emitter().emitDocument(represent(data, options));
}
