import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { Readable } from 'node:stream';
import { type BuildContext, type ContextEntry, entrySource } from './build-context.js';
import { changesInFolder } from './context-recheck.js';
import { sha256 } from './hashing.js';
import { BLOCK, END_OF_ARCHIVE, encodeHeader, padding, padLength, type TarHeader, ustarName, writeHeaderBlock } from './tar-format.js';
import { CHUNK, isFifo, READ_NEVER_BLOCKING, readLinkOrEmpty, TAR_BATCHED_LIMIT } from './verified-reads.js';

/** Fixed mtime for every entry: image layers then depend on content only (2000-01-01T00:00:00Z). */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

export interface ContextTar {
  stream: Readable;
  /** Dockerfile path inside the tar, for the engine's `dockerfile` parameter. */
  dockerfile: string;
  /**
   * After the stream has ended: the entries whose content differs from what the input digest was
   * computed over (a file edited during the build). Non-empty means the image must not carry that digest.
   */
  changedEntries(): string[];
}

/** The builder that reads the tar: they differ in how they treat `.dockerignore` and the Dockerfile. */
export type ContextReader = 'classic' | 'buildkit';

/**
 * Stream a tar of exactly the context's entries, in sorted order, with normalised metadata
 * (owner 0:0, fixed mtime, mode 0644/0755 from the executable bit).
 *
 * A Dockerfile from outside the context is added as `.dockerfile.<hash>`. For the classic builder
 * it is listed in the tar's `.dockerignore`, which makes the engine drop it (and `.dockerignore`)
 * before `COPY` sees the context, exactly as the docker CLI does for `-f` outside the context.
 * BuildKit reads the Dockerfile from an uploaded context but applies no `.dockerignore` to it, so
 * for BuildKit the tar holds what the context should hold, plus the Dockerfile, which it must read.
 */
export function createContextTar(ctx: BuildContext, builder: ContextReader = 'buildkit'): ContextTar {
  const outside = ctx.dockerfileInContext === undefined;
  const classic = builder === 'classic';
  const dockerfile = outside ? `.dockerfile.${sha256(ctx.dockerfileContent).slice(0, 20)}` : ctx.dockerfileInContext!;
  // The classic engine reads the tar's .dockerignore to drop the Dockerfile and itself: it gets the
  // patterns that apply (a `<Dockerfile>.dockerignore`'s, in place of the context's file).
  const ownIgnore = classic && ctx.dockerignorePath !== undefined;
  const dropped = (path: string) => path === '.dockerignore' && (classic ? outside || ownIgnore : ctx.readOnlyByEngine.includes('.dockerignore'));
  const extra: { name: string; content: Buffer }[] = [];
  if (outside && classic) extra.push({ name: '.dockerignore', content: Buffer.from(`${ctx.dockerignore ?? '.dockerignore'}\n${dockerfile}\n`) });
  else if (ownIgnore) extra.push({ name: '.dockerignore', content: Buffer.from(ctx.dockerignore ?? '') });
  if (outside) extra.push({ name: dockerfile, content: ctx.dockerfileContent });
  const stream = new ContextTarStream(ctx, dropped, extra);
  return { stream, dockerfile, changedEntries: () => [...stream.changed].sort() };
}

/** Small files are gathered into buffers of this size before they are pushed. */
const BATCH = 1024 * 1024;

/**
 * The tar, produced as the reader asks for it: each `_read` adds entries until the reader's buffer
 * is full, so memory stays bounded, and reads are synchronous, the cheapest way through a context of
 * many small files. What is sent is hashed again and compared with the digest, to catch files
 * edited meanwhile.
 */
class ContextTarStream extends Readable {
  readonly changed: string[] = [];
  /** Paths the digest walked, to tell a file added since from one that was there. */
  private walked?: Set<string>;
  private next = 0;
  private extraNext = 0;
  /** A large file being sent in chunks. */
  private open?: { path: string; fd: number; left: number; size: number; hash: Hash; want: string };
  /** Small files gathered before they are pushed together. */
  private batch?: Buffer;
  private batchUsed = 0;

  constructor(
    private readonly ctx: BuildContext,
    private readonly dropped: (path: string) => boolean,
    private readonly extra: { name: string; content: Buffer }[],
  ) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _read(): void {
    try {
      while (this.produce()) {
        // keep going while the reader wants more
      }
    } catch (e) {
      this.closeOpen();
      this.destroy(e as Error);
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.closeOpen();
    callback(error);
  }

  /** Push the next piece; false when the reader's buffer is full or the archive has ended. */
  private produce(): boolean {
    if (this.open) return this.pushChunk();
    if (this.next === 0 && !this.walked) {
      this.walked = new Set(this.ctx.entries.map((e) => e.path));
      this.checkFolder('');
    }
    if (this.next < this.ctx.entries.length) {
      const entry = this.ctx.entries[this.next++]!;
      return this.dropped(entry.path) ? true : this.pushEntry(entry);
    }
    if (this.batchUsed > 0) return this.flushBatch();
    if (this.extraNext < this.extra.length) {
      const { name, content } = this.extra[this.extraNext++]!;
      return this.push(fileRecord(name, 0o644, content));
    }
    this.push(END_OF_ARCHIVE);
    this.push(null);
    return false;
  }

  private pushEntry(entry: ContextEntry): boolean {
    const abs = entrySource(this.ctx, entry);
    const small = entry.kind === 'file' && entry.size <= TAR_BATCHED_LIMIT;
    // Anything else is pushed on its own: what the batch holds goes first, to keep the order.
    if (!small && this.batchUsed > 0) {
      const more = this.flushBatch();
      if (!more) {
        this.next--;
        return false;
      }
    }
    if (entry.kind === 'dir') {
      this.checkFolder(entry.path);
      return this.push(encodeHeader({ name: entry.path, type: 'directory', mode: 0o755, size: 0, mtime: FIXED_MTIME }));
    }
    if (entry.kind === 'fifo') {
      if (!isFifo(abs)) this.changed.push(entry.path);
      return this.push(encodeHeader({ name: entry.path, type: 'fifo', mode: entry.mode & 0o777, size: 0, mtime: FIXED_MTIME }));
    }
    if (entry.kind === 'symlink') {
      const target = readLinkOrEmpty(abs);
      if (sha256(target) !== entry.sha256) this.changed.push(entry.path);
      return this.push(encodeHeader({ name: entry.path, type: 'symlink', mode: entry.mode, size: 0, mtime: FIXED_MTIME, linkname: target }));
    }
    // Modes as digested: only the executable bit, normalised to 0755 / 0644.
    const mode = entry.mode & 0o111 ? 0o755 : 0o644;
    if (small) return this.addSmallFile(entry, abs, mode);
    let fd: number;
    try {
      fd = openSync(abs, READ_NEVER_BLOCKING);
    } catch {
      this.changed.push(entry.path);
      return true;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      this.changed.push(entry.path);
      return true;
    }
    // The size as it is now: the header must match what is sent.
    const size = st.size;
    this.open = { path: entry.path, fd, left: size, size, hash: createHash('sha256'), want: entry.sha256 };
    return this.push(encodeHeader({ name: entry.path, type: 'file', mode, size, mtime: FIXED_MTIME }));
  }

  /**
   * A small file goes into the current batch: header, content read straight into place, padding.
   * Batches are pushed when full, so there are few pushes and few allocations.
   */
  private addSmallFile(entry: ContextEntry, abs: string, mode: number): boolean {
    const header: TarHeader = { name: entry.path, type: 'file', mode, size: entry.size, mtime: FIXED_MTIME };
    const split = ustarName(header);
    const room = BLOCK + entry.size + padLength(entry.size);
    if (!split || room > BATCH) return this.flushBatch() && this.pushSmallFileAlone(entry, abs, mode);
    if (this.batchUsed + room > BATCH && !this.flushBatch()) {
      this.next--; // the reader is full: this entry again on the next read
      return false;
    }
    this.batch ??= Buffer.allocUnsafe(BATCH);
    const at = this.batchUsed;
    const body = at + BLOCK;
    let n: number;
    try {
      const fd = openSync(abs, READ_NEVER_BLOCKING);
      try {
        // One byte more than digested: a file that grew is noticed.
        n = readSync(fd, this.batch, body, Math.min(entry.size + 1, BATCH - body), 0);
      } finally {
        closeSync(fd);
      }
    } catch {
      this.changed.push(entry.path);
      return true;
    }
    const size = Math.min(n, entry.size);
    if (n !== entry.size || sha256(this.batch.subarray(body, body + size)) !== entry.sha256) this.changed.push(entry.path);
    header.size = size;
    writeHeaderBlock(header, split, this.batch, at);
    const pad = padLength(size);
    this.batch.fill(0, body + size, body + size + pad);
    this.batchUsed = body + size + pad;
    return true;
  }

  /** A small file whose header needs more than a block, or that does not fit a batch. */
  private pushSmallFileAlone(entry: ContextEntry, abs: string, mode: number): boolean {
    let content: Buffer;
    try {
      const fd = openSync(abs, READ_NEVER_BLOCKING);
      try {
        content = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      this.changed.push(entry.path);
      return true;
    }
    if (sha256(content) !== entry.sha256) this.changed.push(entry.path);
    return this.push(fileRecord(entry.path, mode, content));
  }

  private checkFolder(path: string): void {
    this.changed.push(...changesInFolder(this.ctx, path, this.walked ?? new Set()));
  }

  /** Push what the batch holds; false when the reader wants no more for now. */
  private flushBatch(): boolean {
    if (!this.batch || this.batchUsed === 0) return true;
    const full = this.batch.subarray(0, this.batchUsed);
    this.batch = undefined;
    this.batchUsed = 0;
    return this.push(full);
  }

  private pushChunk(): boolean {
    const f = this.open!;
    if (f.left === 0) {
      if (f.hash.digest('hex') !== f.want) this.changed.push(f.path);
      this.closeOpen();
      return this.push(padding(f.size));
    }
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, f.left));
    const n = readSync(f.fd, buffer, 0, buffer.length, null);
    if (n === 0) {
      // Shorter than when it was opened, so edited: fill up to the size the header promised.
      this.changed.push(f.path);
      const fill = Buffer.alloc(f.left);
      f.left = 0;
      f.hash.update('truncated');
      return this.push(fill);
    }
    f.left -= n;
    f.hash.update(buffer.subarray(0, n));
    return this.push(buffer.subarray(0, n));
  }

  private closeOpen(): void {
    if (!this.open) return;
    closeSync(this.open.fd);
    this.open = undefined;
  }
}

/** Header, content and padding of a small file, as one buffer. */
function fileRecord(name: string, mode: number, content: Buffer): Buffer {
  return Buffer.concat([encodeHeader({ name, type: 'file', mode, size: content.length, mtime: FIXED_MTIME }), content, padding(content.length)]);
}
