import { createHash } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { type Headers, pack as tarPack } from 'tar-fs';
import type { Pack } from 'tar-stream';
import type { Builder } from '../engine/engine-client.js';
import type { BuildContext } from './build-context.js';
import { sha256 } from './build-context.js';

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
export function createContextTar(ctx: BuildContext, builder: Builder = 'buildkit'): ContextTar {
  const outside = ctx.dockerfileInContext === undefined;
  const classic = builder === 'classic';
  const dockerfile = outside ? `.dockerfile.${sha256(ctx.dockerfileContent).slice(0, 20)}` : ctx.dockerfileInContext!;
  const dropped = (path: string) => path === '.dockerignore' && (classic ? outside : ctx.readOnlyByEngine.includes('.dockerignore'));
  const entries = ctx.entries.filter((e) => !dropped(e.path)).map((e) => e.path);
  const synthesizeIgnore = outside && classic;
  const expected = new Map(ctx.entries.map((e) => [e.path, e]));
  const changed: string[] = [];

  // `umask: 0` (known to tar-fs, missing from its types): modes are normalised in the map instead.
  const options: Parameters<typeof tarPack>[1] & { umask: number } = {
    entries,
    // entries is already the complete, filtered list: never descend into folders on our own.
    ignore: () => true,
    umask: 0,
    map: (header) => {
      const entry = expected.get(header.name);
      // tar-fs reads a link's target after `map`, so read it here to check it is still what was digested.
      if (header.type === 'symlink' && entry && sha256(readLinkOrEmpty(join(ctx.root, header.name))) !== entry.sha256) changed.push(header.name);
      return normaliseHeader(header);
    },
    // Hash what is actually sent, to catch files edited between digest and tar.
    mapStream: (fileStream, header) => {
      const want = expected.get(header.name)?.sha256;
      const hash = createHash('sha256');
      const check = new Transform({
        transform(chunk, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
        flush(done) {
          if (hash.digest('hex') !== want) changed.push(header.name);
          done();
        },
      });
      return fileStream.pipe(check) as unknown as typeof fileStream;
    },
    finalize: !outside,
    finish: outside
      ? (pack: Pack) => {
          if (synthesizeIgnore) addFile(pack, '.dockerignore', Buffer.from(`${ctx.dockerignore ?? '.dockerignore'}\n${dockerfile}\n`));
          addFile(pack, dockerfile, ctx.dockerfileContent);
          pack.finalize();
        }
      : undefined,
  };
  const stream = tarPack(ctx.root, options);
  return { stream: stream as unknown as Readable, dockerfile, changedEntries: () => [...changed].sort() };
}

function readLinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

function normaliseHeader(header: Headers & { uname?: string; gname?: string }): Headers {
  header.mtime = FIXED_MTIME;
  header.uid = 0;
  header.gid = 0;
  header.uname = '';
  header.gname = '';
  if (header.type === 'directory') header.mode = 0o755;
  else if (header.type === 'file') header.mode = (header.mode ?? 0) & 0o111 ? 0o755 : 0o644;
  return header;
}

function addFile(pack: Pack, name: string, content: Buffer): void {
  pack.entry({ name, size: content.length, mode: 0o644, mtime: FIXED_MTIME, uid: 0, gid: 0, uname: '', gname: '' }, content);
}
