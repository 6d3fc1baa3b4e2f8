/**
 * BuildKit builds get their context through the session's FileSync: the daemon keeps what it got
 * under the context folder's shared key, so a rebuild after a one-line change asks for that file
 * alone (the bytes are counted from the DATA packets sent, as the build's log reports them). The
 * tar body stays available (HELMET_CONTEXT_TRANSFER=tar), and a bad value is refused.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, withEnv } from '../support/project.js';
import { removeImages, runImage, uniqueName } from '../support/services.js';

const BIG = 8 * 1024 * 1024;

/** The FileSync transfers a build's log reports: folder, files asked for, bytes sent. */
function transfers(stdout: string): { dir: string; files: number; entries: number; bytes: number }[] {
  return ndjson(stdout)
    .filter((e) => e.type === 'job-log')
    .flatMap((e) => {
      const m = /^context: (\w+) sent through FileSync, (\d+) of (\d+) entries asked for, (\d+) bytes$/.exec(e.line as string);
      return m ? [{ dir: m[1]!, files: Number(m[2]), entries: Number(m[3]), bytes: Number(m[4]) }] : [];
    });
}

describe('the context through FileSync (BuildKit)', () => {
  const image = uniqueName('itest-filesync');
  afterAll(() => removeImages(image));

  it('a rebuild after a one-line change sends only the changed file', async () => {
    const p = makeProject({
      'components/big/component.yaml': `name: big\nimplementation:\n  container:\n    command: [cat, /app/notes.txt]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/big.Dockerfile\n`,
      'components/big/notes.txt': 'line one\n',
      'components/big/lib/util.py': 'X = 1\n',
      'dockerfiles/big.Dockerfile': 'FROM helmet/busybox:latest\nCOPY . /app\n',
    });
    try {
      const ctx = join(p.root, 'components/big');
      writeFileSync(join(ctx, 'weights.bin'), Buffer.alloc(BIG, 7));
      const first = await runCli(['build', 'big', '--builder', 'buildkit', '--json'], p.root);
      expect(first.code, first.stderr).toBe(0);
      const sentFirst = transfers(first.stdout);
      const contextFirst = sentFirst.find((t) => t.dir === 'context' && t.entries > 1)!;
      expect(contextFirst.bytes).toBeGreaterThanOrEqual(BIG);
      expect(sentFirst.find((t) => t.dir === 'dockerfile')).toMatchObject({ files: 1, bytes: 'FROM helmet/busybox:latest\nCOPY . /app\n'.length });

      appendFileSync(join(ctx, 'notes.txt'), 'line two\n');
      const second = await runCli(['build', 'big', '--builder', 'buildkit', '--json'], p.root);
      expect(second.code, second.stderr).toBe(0);
      const sentSecond = transfers(second.stdout);
      const contextSecond = sentSecond.find((t) => t.dir === 'context' && t.entries > 1)!;
      expect(contextSecond).toMatchObject({ files: 1, bytes: 'line one\nline two\n'.length });
      // Nothing else of the context was asked for (BuildKit 0.13 reads the small Dockerfile again).
      expect(sentSecond.filter((t) => t !== contextSecond && t.dir === 'context' && t.bytes > 0)).toEqual([]);
      const report = JSON.parse((await import('node:fs')).readFileSync(join(p.root, 'dist/build.json'), 'utf8'));
      expect((await runImage(report.components.big.imageId, ['cat', '/app/notes.txt'])).output).toBe('line one\nline two\n');
    } finally {
      p.cleanup();
    }
  });

  it('HELMET_CONTEXT_TRANSFER=tar sends a tar body instead; another value is refused (exit 2)', async () => {
    const p = makeProject({
      'components/tarred/component.yaml': `name: tarred\nimplementation:\n  container:\n    command: [cat, /app/notes.txt]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/tarred.Dockerfile\n`,
      'components/tarred/notes.txt': 'tar body\n',
      'dockerfiles/tarred.Dockerfile': 'FROM helmet/busybox:latest\nCOPY . /app\n',
    });
    try {
      const tar = await withEnv({ HELMET_CONTEXT_TRANSFER: 'tar' }, () => runCli(['build', 'tarred', '--builder', 'buildkit', '--json'], p.root));
      expect(tar.code, tar.stderr).toBe(0);
      expect(transfers(tar.stdout)).toEqual([]);
      const bad = await withEnv({ HELMET_CONTEXT_TRANSFER: 'rsync' }, () => runCli(['build', 'tarred', '--builder', 'buildkit', '--no-cache'], p.root));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/HELMET_CONTEXT_TRANSFER must be filesync or tar/);
    } finally {
      p.cleanup();
    }
  });
});
