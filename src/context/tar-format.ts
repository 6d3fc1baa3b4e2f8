/**
 * The tar format, as much as a build context needs: POSIX ustar headers (names split into prefix and
 * name where they fit) and a PAX extended header for what does not (long paths and link targets,
 * sizes of 8 GiB and more). Written by hand because the only job here is to encode headers, and a
 * stream-per-entry packer costs more per file than reading the file does.
 */

export const BLOCK = 512;
/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

export interface TarHeader {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'fifo';
  mode: number;
  size: number;
  mtime: Date;
  linkname?: string;
}

const TYPE_FLAG = { file: '0', symlink: '2', directory: '5', fifo: '6' } as const;
/** The largest size an 11-digit octal field holds. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;

/** Bytes of zero padding after a body of `size` bytes, up to the next block. */
export function padLength(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

/** Zero bytes that fill a body of `size` bytes up to the next block. */
export function padding(size: number): Buffer {
  return Buffer.alloc(padLength(size));
}

/** The ustar name/prefix of a header, or undefined when it needs a PAX header. */
export function ustarName(h: TarHeader): { name: string; prefix: string } | undefined {
  if (Buffer.byteLength(h.linkname ?? '') > 100 || h.size > MAX_OCTAL_SIZE) return undefined;
  return splitName(entryName(h));
}

/** The header block(s) of one entry: a PAX header first when the ustar fields cannot hold it. */
export function encodeHeader(h: TarHeader): Buffer {
  const name = entryName(h);
  const split = splitName(name);
  const linkname = h.linkname ?? '';
  const pax: Record<string, string> = {};
  if (!split) pax.path = name;
  if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
  if (h.size > MAX_OCTAL_SIZE) pax.size = String(h.size);
  const main = Buffer.alloc(BLOCK);
  writeUstar(main, 0, {
    name: split?.name ?? truncate(name, 100),
    prefix: split?.prefix ?? '',
    type: TYPE_FLAG[h.type],
    mode: h.mode,
    size: h.size > MAX_OCTAL_SIZE ? 0 : h.size,
    mtime: h.mtime,
    linkname: truncate(linkname, 100),
  });
  if (Object.keys(pax).length === 0) return main;
  const records = Buffer.from(
    Object.entries(pax)
      .map(([k, v]) => paxRecord(k, v))
      .join(''),
  );
  const paxHeader = Buffer.alloc(BLOCK);
  writeUstar(paxHeader, 0, {
    name: truncate(`PaxHeader/${name}`, 100),
    prefix: '',
    type: 'x',
    mode: 0o644,
    size: records.length,
    mtime: h.mtime,
    linkname: '',
  });
  return Buffer.concat([paxHeader, records, padding(records.length), main]);
}

/** One ustar block for a header whose `ustarName` is `split`, written into `b` at `at`. */
export function writeHeaderBlock(h: TarHeader, split: { name: string; prefix: string }, b: Buffer, at: number): void {
  writeUstar(b, at, {
    name: split.name,
    prefix: split.prefix,
    type: TYPE_FLAG[h.type],
    mode: h.mode,
    size: h.size,
    mtime: h.mtime,
    linkname: h.linkname ?? '',
  });
}

function entryName(h: TarHeader): string {
  return h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
}

interface UstarFields {
  name: string;
  prefix: string;
  type: string;
  mode: number;
  size: number;
  mtime: Date;
  linkname: string;
}

/** The fields every header of a context shares (owner 0:0, magic, device numbers), per mtime. */
const templates = new Map<number, Buffer>();

function template(mtime: Date): Buffer {
  const seconds = Math.floor(mtime.getTime() / 1000);
  let t = templates.get(seconds);
  if (!t) {
    t = Buffer.alloc(BLOCK);
    octal(t, 108, 8, 0); // uid
    octal(t, 116, 8, 0); // gid
    octal(t, 136, 12, seconds);
    t.write('ustar\u000000', 257, 8, 'latin1');
    octal(t, 329, 8, 0); // devmajor
    octal(t, 337, 8, 0); // devminor
    templates.set(seconds, t);
  }
  return t;
}

function writeUstar(b: Buffer, at: number, f: UstarFields): void {
  template(f.mtime).copy(b, at);
  b.write(f.name, at, 100, 'utf8');
  octal(b, at + 100, 8, f.mode & 0o7777);
  octal(b, at + 124, 12, f.size);
  b.write(f.type, at + 156, 1, 'latin1');
  if (f.linkname) b.write(f.linkname, at + 157, 100, 'utf8');
  if (f.prefix) b.write(f.prefix, at + 345, 155, 'utf8');
  // The checksum is computed with its own field read as eight spaces.
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = at; i < at + BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, at + 148, 8, 'latin1');
}

/** A zero-padded octal number, NUL-terminated, in a field of `width` bytes. */
function octal(b: Buffer, offset: number, width: number, value: number): void {
  b.write(`${value.toString(8).padStart(width - 1, '0')}\u0000`, offset, width, 'latin1');
}

/** name (≤ 100 bytes) and prefix (≤ 155 bytes) split at a slash, or undefined when no split fits. */
function splitName(path: string): { name: string; prefix: string } | undefined {
  if (path.length <= 100 && Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  return undefined;
}

/** "<length> key=value\n", where the length counts the whole record, itself included. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body);
  let length = bodyLength + String(bodyLength).length;
  if (String(length).length + bodyLength !== length) length = bodyLength + String(length).length;
  return `${length}${body}`;
}

/** At most `bytes` bytes of `s`, never cutting a UTF-8 sequence. */
function truncate(s: string, bytes: number): string {
  if (Buffer.byteLength(s) <= bytes) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}
