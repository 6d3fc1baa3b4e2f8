/**
 * YAML text as PyYAML's `yaml.dump` writes it (PyYAML 5/6, `yaml.Dumper`, width 80, indent 2,
 * `allow_unicode=False`), so that a KFP v1 pipeline package is byte-for-byte what kfp 1.8.22 writes:
 * the same choice of flow or block collections, of plain, quoted or literal scalars, and the same line
 * folding. A port of the parts of PyYAML's representer, resolver and emitter that plain data meets
 * (mappings, sequences, strings, integers, floats, booleans, null); anchors and tags never occur.
 */

export type YamlData = string | number | boolean | null | YamlData[] | { [key: string]: YamlData };

export interface DumpOptions {
  /**
   * `auto` is `default_flow_style=None` (a collection of plain scalars only is written in flow style);
   * `block` is `default_flow_style=False`.
   */
  flow: 'auto' | 'block';
  /** Sort mapping keys (`yaml.dump`'s default); kfp's own dumper keeps insertion order. */
  sortKeys: boolean;
  /**
   * kfp's string representer (components/_yaml_utils.py): a string with a line break is a literal
   * block (`|`), and y/n/yes/no/true/false/on/off in any case are double-quoted.
   */
  kfpStrings: boolean;
}

type Style = undefined | '|' | '"';
type Node =
  | { kind: 'scalar'; tag: 'str' | 'int' | 'float' | 'bool' | 'null'; value: string; style: Style }
  | { kind: 'seq'; items: Node[]; flow: boolean }
  | { kind: 'map'; pairs: [Node, Node][]; flow: boolean };

// --- representer -------------------------------------------------------------------------------

/** Python's `repr(float)`. */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return negative ? `-${out}` : out;
}

function represent(data: YamlData, o: DumpOptions): Node {
  if (data === null) return { kind: 'scalar', tag: 'null', value: 'null', style: undefined };
  if (typeof data === 'boolean') return { kind: 'scalar', tag: 'bool', value: data ? 'true' : 'false', style: undefined };
  if (typeof data === 'number') {
    if (Number.isInteger(data) && !Object.is(data, -0)) return { kind: 'scalar', tag: 'int', value: String(data), style: undefined };
    let value = Number.isNaN(data) ? '.nan' : !Number.isFinite(data) ? (data > 0 ? '.inf' : '-.inf') : pythonFloatRepr(data).toLowerCase();
    if (!value.includes('.') && value.includes('e')) value = value.replace('e', '.0e');
    return { kind: 'scalar', tag: 'float', value, style: undefined };
  }
  if (typeof data === 'string') {
    let style: Style;
    if (o.kfpStrings) {
      if (data.includes('\n')) style = '|';
      if (['y', 'n', 'yes', 'no', 'true', 'false', 'on', 'off'].includes(data.toLowerCase())) style = '"';
    }
    return { kind: 'scalar', tag: 'str', value: data, style };
  }
  const plain = (n: Node) => n.kind === 'scalar' && n.style === undefined;
  if (Array.isArray(data)) {
    const items = data.map((d) => represent(d, o));
    return { kind: 'seq', items, flow: o.flow === 'auto' && items.every(plain) };
  }
  let entries = Object.entries(data);
  if (o.sortKeys) entries = entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const pairs = entries.map(([k, v]): [Node, Node] => [represent(k, o), represent(v, o)]);
  return { kind: 'map', pairs, flow: o.flow === 'auto' && pairs.every(([k, v]) => plain(k) && plain(v)) };
}

// --- resolver (YAML 1.1 implicit tags, as PyYAML's Resolver) -------------------------------------

const IMPLICIT: [string, RegExp, string][] = [
  ['bool', /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/, 'yYnNtTfFoO'],
  [
    'float',
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
    '-+0123456789.',
  ],
  ['int', /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/, '-+0123456789'],
  ['merge', /^(?:<<)$/, '<'],
  ['null', /^(?:~|null|Null|NULL|)$/, '~nN'],
  [
    'timestamp',
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/,
    '0123456789',
  ],
  ['value', /^(?:=)$/, '='],
];

/** The tag a plain scalar with this text would resolve to. Python's `$` also matches before a final newline. */
function resolvePlain(value: string): string {
  if (value === '') return 'null';
  const texts = value.endsWith('\n') ? [value, value.slice(0, -1)] : [value];
  for (const [tag, re, first] of IMPLICIT) if (first.includes(value[0]!) && texts.some((t) => re.test(t))) return tag;
  return 'str';
}

// --- emitter -------------------------------------------------------------------------------------

interface Analysis {
  scalar: string;
  empty: boolean;
  multiline: boolean;
  allowFlowPlain: boolean;
  allowBlockPlain: boolean;
  allowSingleQuoted: boolean;
  allowBlock: boolean;
}

const BREAKS = '\n\x85\u2028\u2029';
const SPACE_OR_BREAK = '\0 \t\r\n\x85\u2028\u2029';

function analyze(scalar: string): Analysis {
  if (!scalar) return { scalar, empty: true, multiline: false, allowFlowPlain: false, allowBlockPlain: true, allowSingleQuoted: true, allowBlock: false };
  const chars = Array.from(scalar);
  let blockIndicators = false;
  let flowIndicators = false;
  let lineBreaks = false;
  let special = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  if (scalar.startsWith('---') || scalar.startsWith('...')) blockIndicators = flowIndicators = true;
  let precededByWhitespace = true;
  let followedByWhitespace = chars.length === 1 || SPACE_OR_BREAK.includes(chars[1]!);
  let previousSpace = false;
  let previousBreak = false;
  for (let index = 0; index < chars.length; index++) {
    const ch = chars[index]!;
    if (index === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(ch)) flowIndicators = blockIndicators = true;
      if ('?:'.includes(ch)) {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (ch === '-' && followedByWhitespace) flowIndicators = blockIndicators = true;
    } else {
      if (',?[]{}'.includes(ch)) flowIndicators = true;
      if (ch === ':') {
        flowIndicators = true;
        if (followedByWhitespace) blockIndicators = true;
      }
      if (ch === '#' && precededByWhitespace) flowIndicators = blockIndicators = true;
    }
    if (BREAKS.includes(ch)) lineBreaks = true;
    const cp = ch.codePointAt(0)!;
    // Without allow_unicode every character outside printable ASCII is special (double-quoted, escaped).
    if (!(ch === '\n' || (cp >= 0x20 && cp <= 0x7e))) special = true;
    if (ch === ' ') {
      if (index === 0) leadingSpace = true;
      if (index === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (BREAKS.includes(ch)) {
      if (index === 0) leadingBreak = true;
      if (index === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = SPACE_OR_BREAK.includes(ch);
    followedByWhitespace = index + 2 >= chars.length || SPACE_OR_BREAK.includes(chars[index + 2]!);
  }
  let allowFlowPlain = true;
  let allowBlockPlain = true;
  let allowSingleQuoted = true;
  let allowBlock = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowFlowPlain = allowBlockPlain = false;
  if (trailingSpace) allowBlock = false;
  if (breakSpace) allowFlowPlain = allowBlockPlain = allowSingleQuoted = false;
  if (spaceBreak || special) allowFlowPlain = allowBlockPlain = allowSingleQuoted = allowBlock = false;
  if (lineBreaks) allowFlowPlain = allowBlockPlain = false;
  if (flowIndicators) allowFlowPlain = false;
  if (blockIndicators) allowBlockPlain = false;
  return { scalar, empty: false, multiline: lineBreaks, allowFlowPlain, allowBlockPlain, allowSingleQuoted, allowBlock };
}

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
