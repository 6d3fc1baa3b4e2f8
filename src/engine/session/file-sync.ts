/**
 * FileSync on a build session (moby/buildkit session/filesync, `moby.filesync.v1.FileSync/DiffCopy`):
 * the daemon opens one stream per folder it reads (gRPC metadata `dir-name`: `context` or
 * `dockerfile`, with fsutil's filters), and this side sends fsutil's packet stream
 * (tonistiigi/fsutil send.go): one STAT per entry, depth first with names in byte order, then an
 * empty STAT; the daemon answers REQ{ID} for each file whose content it lacks (ID: the index of its
 * STAT) and gets DATA packets of at most 32 KiB, then an empty DATA; its FIN is answered with FIN.
 * The daemon compares the STATs with what it kept for the session's shared key, so a rebuild asks
 * only for files whose size or mtime differ.
 */
import type * as Grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import type { DirFilter, LocalDir, LocalDirs, LocalEntry } from '../../model/local-dirs.js';
import type { ContextSent } from '../engine-client.js';

export const DIFF_COPY_PATH = '/moby.filesync.v1.FileSync/DiffCopy';

/** fsutil.types.Packet.PacketType */
const STAT = 0;
const REQ = 1;
const DATA = 2;
const FIN = 3;
const ERR = 4;

/** Content goes in DATA packets of this size, as fsutil sends them. */
const DATA_CHUNK = 32 * 1024;
/** os.ModeType: a file whose mode has none of these bits is one the daemon may ask the content of. */
export const GO_MODE_TYPE = 0x8f280000;

interface Packet {
  type: number;
  id: number;
  data: Buffer;
}

/** Encode fsutil.types.Packet (wire.proto); a STAT with no entry is the end of the entries. */
export function encodePacket(type: number, fields: { entry?: LocalEntry; id?: number; data?: Buffer } = {}): Buffer {
  const w = protobuf.Writer.create();
  if (type !== 0) w.uint32(8).int32(type);
  if (fields.entry) {
    w.uint32(18).fork();
    encodeStat(w, fields.entry);
    w.ldelim();
  }
  if (fields.id) w.uint32(24).uint32(fields.id);
  if (fields.data?.length) w.uint32(34).bytes(fields.data);
  return Buffer.from(w.finish());
}

/** fsutil.types.Stat (stat.proto): owner 0:0, as the docker CLI sends a context. */
function encodeStat(w: protobuf.Writer, e: LocalEntry): void {
  w.uint32(10).string(e.path);
  if (e.mode) w.uint32(16).uint32(e.mode >>> 0);
  if (e.size) w.uint32(40).int64(e.size);
  if (e.modTime !== '0') w.uint32(48).int64(e.modTime);
  if (e.linkname) w.uint32(58).string(e.linkname);
}

export function decodePacket(bytes: Buffer): Packet {
  const r = protobuf.Reader.create(bytes);
  const p: Packet = { type: STAT, id: 0, data: Buffer.alloc(0) };
  while (r.pos < r.len) {
    const tag = r.uint32();
    switch (tag >>> 3) {
      case 1:
        p.type = r.int32();
        break;
      case 3:
        p.id = r.uint32();
        break;
      case 4:
        p.data = Buffer.from(r.bytes());
        break;
      default:
        r.skipType(tag & 7);
    }
  }
  return p;
}

/** The filters of one request. BuildKit 0.13 URL-escapes values it marks `<key>-encoded: true`. */
function requestFilter(metadata: Grpc.Metadata): { dirName: string; filter: DirFilter } {
  const values = (key: string): string[] => {
    // Node's http2 joins the repeated header lines of one key with ", " (grpc-go sends one line per
    // value); values BuildKit 0.13 escapes never hold a comma.
    const raw = metadata.get(key).flatMap((v) =>
      String(v)
        .split(',')
        .map((part) => part.trim()),
    );
    const encoded = /^(1|t|true)$/i.test(String(metadata.get(`${key}-encoded`)[0] ?? ''));
    return encoded ? raw.map(queryUnescape) : raw;
  };
  return {
    dirName: values('dir-name')[0] ?? '',
    filter: { includePatterns: values('include-patterns'), excludePatterns: values('exclude-patterns'), followPaths: values('followpaths') },
  };
}

/** Go's url.QueryUnescape. */
function queryUnescape(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The DiffCopy handler over `dirs`; `onSent` hears of each folder sent. */
export function diffCopyHandler(grpc: typeof Grpc, dirs: LocalDirs, onSent?: (sent: ContextSent) => void): Grpc.handleBidiStreamingCall<Buffer, Buffer> {
  return (call) => {
    const { dirName, filter } = requestFilter(call.metadata);
    const dir = dirs.dir(dirName);
    if (!dir) {
      call.emit('error', { code: grpc.status.NOT_FOUND, details: `no access allowed to dir "${dirName}"` });
      return;
    }
    new Transfer(call, dir, dirName, filter, onSent).run();
  };
}

/** One folder sent on one stream. */
class Transfer {
  private readonly requests: number[] = [];
  private finished = false;
  private closed = false;
  private wake?: () => void;
  private readonly sent: ContextSent;

  constructor(
    private readonly call: Grpc.ServerDuplexStream<Buffer, Buffer>,
    private readonly dir: LocalDir,
    dirName: string,
    private readonly filter: DirFilter,
    private readonly onSent?: (sent: ContextSent) => void,
  ) {
    this.sent = { dir: dirName, entries: 0, files: 0, bytes: 0 };
    call.on('data', (bytes: Buffer) => {
      const p = decodePacket(bytes);
      if (p.type === REQ) this.requests.push(p.id);
      else if (p.type === FIN) this.finished = true;
      else if (p.type === ERR) this.closed = true;
      this.poke();
    });
    const close = () => {
      this.closed = true;
      this.poke();
    };
    // The daemon's half-close ('end') is no reason to stop: only a stream that is gone is.
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  run(): void {
    this.send().catch((e: unknown) => {
      // What went wrong goes to the daemon as fsutil's ERR packet; the build fails with it.
      if (this.closed) return;
      const message = e instanceof Error ? e.message : String(e);
      this.call.write(encodePacket(ERR, { data: Buffer.from(message) }));
      this.call.end();
    });
  }

  private async send(): Promise<void> {
    const entries = this.dir.list(this.filter);
    this.sent.entries = entries.length;
    const files = new Map<number, LocalEntry>();
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if ((entry.mode & GO_MODE_TYPE) === 0) files.set(i, entry);
      await this.write(encodePacket(STAT, { entry }));
    }
    await this.write(encodePacket(STAT));
    for (;;) {
      if (this.closed) return;
      const id = this.requests.shift();
      if (id !== undefined) {
        const entry = files.get(id);
        if (!entry) throw new Error(`invalid file id ${id}`);
        files.delete(id);
        await this.sendFile(id, entry);
        continue;
      }
      if (this.finished) {
        await this.write(encodePacket(FIN));
        this.call.end();
        this.onSent?.(this.sent);
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private async sendFile(id: number, entry: LocalEntry): Promise<void> {
    for (const piece of this.dir.read(entry)) {
      for (let at = 0; at < piece.length; at += DATA_CHUNK) {
        const data = piece.subarray(at, Math.min(piece.length, at + DATA_CHUNK));
        await this.write(encodePacket(DATA, { id, data }));
        this.sent.bytes += data.length;
      }
    }
    await this.write(encodePacket(DATA, { id }));
    this.sent.files++;
  }

  /** Write one packet; when the stream's buffer is full, wait until it drains (or the stream ends). */
  private async write(packet: Buffer): Promise<void> {
    if (this.closed) throw new Error('the daemon closed the file transfer');
    if (this.call.write(packet)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.call.off('drain', done);
        this.call.off('close', done);
        this.call.off('cancelled', done);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('close', done);
      this.call.on('cancelled', done);
    });
  }
}
