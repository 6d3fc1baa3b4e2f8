import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readProgress } from '../../src/engine/progress-stream.js';

const stream = (chunks: string[]) => Readable.from(chunks.map((c) => Buffer.from(c)));

describe('readProgress', () => {
  it('reports an errorDetail inside an otherwise normal stream', async () => {
    const seen: unknown[] = [];
    const { error } = await readProgress(
      stream([
        '{"stream":"Step 1/2 : FROM x"}\r\n{"stream":"Step 2/2 : RUN false"}\n',
        '{"errorDetail":{"code":1,"message":"The command returned a non-zero code: 1"},"error":"The command returned a non-zero code: 1"}\n',
      ]),
      (m) => seen.push(m),
    );
    expect(error).toBe('The command returned a non-zero code: 1');
    expect(seen).toHaveLength(3);
  });

  it('joins JSON messages split across chunks and keeps aux data', async () => {
    const seen: unknown[] = [];
    const { error } = await readProgress(stream(['{"aux":{"Dig', 'est":"sha256:ab"}}\n{"status":"done"}']), (m) => seen.push(m));
    expect(error).toBeUndefined();
    expect(seen).toEqual([{ aux: { Digest: 'sha256:ab' } }, { status: 'done' }]);
  });

  it('a bare error without errorDetail counts too', async () => {
    const { error } = await readProgress(stream(['{"error":"dial tcp 127.0.0.1:5999: connect: connection refused"}\n']), () => {});
    expect(error).toContain('connection refused');
  });
});
