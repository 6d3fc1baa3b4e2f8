/**
 * Text as kfp 1.8.22 (Python) writes it: `json.dumps(..., sort_keys=True)`, `str()` of the values a
 * pipeline passes, and the name rules of kfp's compiler (`compiler/_k8s_helper.py`,
 * `components/_naming.py`).
 */
import { pythonFloatRepr } from './pyyaml-dump.js';

/** `json.dumps(value, sort_keys=True)`: `", "` and `": "` separators, every non-ASCII character escaped. */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
  if (typeof value === 'string') return jsonString(value);
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${jsonString(k)}: ${pythonJson(v)}`).join(', ')}}`;
}

const JSON_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    const code = s.charCodeAt(i);
    if (ch in JSON_ESCAPES) out += JSON_ESCAPES[ch];
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Python's `str()` of a value a pipeline passes: `True`, `1.0`, text as it is. */
export function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloatRepr(value);
  return pythonJson(value);
}

/** `sanitize_k8s_name`: the names of ops, outputs and pipeline parameters in the workflow. */
export function sanitizeK8sName(name: string, allowCapitalUnderscore = false): string {
  const replaced = allowCapitalUnderscore ? name.replace(/[^-_0-9A-Za-z]+/g, '-') : name.toLowerCase().replace(/[^-0-9a-z]+/g, '-');
  return replaced.replace(/-+/g, '-').replace(/^-+|-+$/g, '');
}

/** The op name kfp's `Pipeline.add_op` gives a task: `_sanitize_python_function_name(name)` with `_` as `-`. */
export function opName(name: string): string {
  let n = name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]|_/gu, ' ')
    .replace(/ +/g, ' ')
    .trim();
  if (/^\d/.test(n)) n = `n${n}`;
  return n.replace(/ /g, '-');
}

/** `_sanitize_file_name`: the folder of an input or output file under /tmp/inputs or /tmp/outputs. */
export function sanitizeFileName(name: string): string {
  return name.replace(/[^-_.0-9a-zA-Z]+/g, '_');
}

/** `_make_name_unique_by_adding_index`. */
export function uniqueName(name: string, taken: { has(n: string): boolean }, delimiter: string): string {
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name}${delimiter}${i}`)) return `${name}${delimiter}${i}`;
}
