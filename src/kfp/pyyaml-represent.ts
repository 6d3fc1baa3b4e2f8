/**
 * The representer and resolver half of PyYAML's `yaml.dump` (see pyyaml-dump.ts): plain data as the
 * nodes the emitter writes, with the style each scalar needs to read back as itself.
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

export type Style = undefined | '|' | '"';
export type Node =
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

export function represent(data: YamlData, o: DumpOptions): Node {
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
export function resolvePlain(value: string): string {
  if (value === '') return 'null';
  const texts = value.endsWith('\n') ? [value, value.slice(0, -1)] : [value];
  for (const [tag, re, first] of IMPLICIT) if (first.includes(value[0]!) && texts.some((t) => re.test(t))) return tag;
  return 'str';
}
