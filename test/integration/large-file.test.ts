import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/project.js';
import { uniqueName } from '../support/services.js';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'helmet-build.js');

/** Model weights are routinely gigabytes: hashing them must neither crash nor take memory in proportion. */
describe('a build context with a 3 GB file', () => {
  const project = makeProject({
    Dockerfile: 'FROM helmet/busybox:latest\nCOPY . /app\n',
    'components/model/weights.bin': '',
    'components/model/component.yaml': `name: model\nimplementation:\n  container:\n    command: [ls]\nbuild:\n  image: ${uniqueName('itest-large')}\n  dockerfile: Dockerfile\n`,
  });
  const weights = join(project.root, 'components/model/weights.bin');
  // Sparse: 3 GB to read and hash, no disk used.
  truncateSync(weights, 3 * 1024 ** 3);
  afterAll(() => project.cleanup());

  it('plan succeeds in bounded memory, and the file is digested as another tool digests it', async () => {
    const timed = await execa('/usr/bin/time', ['-v', 'node', BIN, '-C', project.root, 'plan', '--json'], { reject: false });
    expect(timed.exitCode, timed.stderr).toBe(0);
    const peakKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(timed.stderr)![1]);
    expect(peakKiB).toBeLessThan(200 * 1024);
    expect(JSON.parse(timed.stdout).components[0].state).toBe('needs-build');

    // The digest helmet-build recorded for the file, next to openssl's.
    const script = `import('${join(ROOT, 'lib/context/build-context.js')}').then((m) => { const c = m.readBuildContext(process.argv[1], process.argv[2]); console.log(c.entries.find((e) => e.path === 'weights.bin').sha256); })`;
    const ours = await execa('node', ['-e', script, join(project.root, 'components/model'), join(project.root, 'Dockerfile')]);
    const openssl = await execa('openssl', ['dgst', '-sha256', '-r', weights]);
    expect(ours.stdout.trim()).toBe(openssl.stdout.split(' ')[0]);
  });
});
