import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, uniqueName } from '../support/services.js';

/**
 * SSH forwarding with a real ssh-agent holding a key. The busybox image has no ssh-add, so the
 * host's own ssh-add is copied into the context with the libraries it links and run through their
 * loader: the RUN step lists the keys of the agent it reaches through the session.
 */
describe('SSH agent forwarding (--ssh, build.ssh)', () => {
  const image = uniqueName('itest-ssh');
  const dir = mkdtempSync(join(tmpdir(), 'helmet-ssh-'));
  const socket = join(dir, 'agent.sock');
  let agent: ChildProcess;
  let listed: string;
  const project = makeProject({
    'dockerfiles/ssh.Dockerfile': [
      'FROM helmet/busybox:latest',
      'COPY ssh/ /ssh/',
      'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && /ssh/ld-linux-x86-64.so.2 --library-path /ssh /ssh/ssh-add -l > /listed',
      'CMD ["cat", "/listed"]',
      '',
    ].join('\n'),
    'components/app/component.yaml': [
      'name: app',
      'implementation:',
      '  container:',
      '    command: [cat, /listed]',
      'build:',
      `  image: ${image}`,
      '  dockerfile: dockerfiles/ssh.Dockerfile',
      '  ssh: [default]',
      '',
    ].join('\n'),
  });

  beforeAll(async () => {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'helmet-build-test-key', '-f', join(dir, 'key')]);
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
    await execa('ssh-add', [join(dir, 'key')], { env: { SSH_AUTH_SOCK: socket } });
    listed = (await execa('ssh-add', ['-l'], { env: { SSH_AUTH_SOCK: socket } })).stdout.trim();
    expect(listed).toContain('helmet-build-test-key');
    // ssh-add and the libraries it links, beside their loader.
    const bin = join(project.root, 'components/app/ssh');
    mkdirSync(bin);
    const ssh = (await execa('which', ['ssh-add'])).stdout.trim();
    const libs = [...(await execa('ldd', [ssh])).stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!);
    for (const file of [ssh, ...libs]) {
      copyFileSync(file, join(bin, basename(file)));
      chmodSync(join(bin, basename(file)), 0o755);
    }
  }, 60_000);
  afterAll(async () => {
    agent?.kill();
    await removeImages(image);
    project.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('RUN --mount=type=ssh lists the key of the agent given with --ssh default ($SSH_AUTH_SOCK)', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = socket;
    try {
      const r = await runCli(['build', 'app', '--builder', 'buildkit', '--ssh', 'default', '--no-cache', '--json'], project.root);
      expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
      const built = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.app.imageId as string;
      expect((await runImage(built)).output.trim()).toBe(listed);
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  }, 120_000);

  it('build.ssh without --ssh: exit 2 naming the component and the id', async () => {
    const r = await runCli(['build', 'app'], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/component app needs SSH agent "default"/);
  });
});
