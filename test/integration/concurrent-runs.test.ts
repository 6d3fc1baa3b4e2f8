import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeProject } from '../support/project.js';
import { removeImages, services, uniqueName } from '../support/services.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

function start(root: string, args: string[]) {
  const child = spawn('node', [BIN, '-C', root, ...args], { env: process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  const building = new Promise<void>((resolve) => child.stdout.on('data', () => stdout.includes('"kind":"build"') && resolve()));
  return { done, building };
}

/** Every file under `dir`, relative. */
function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();
}

describe('two runs on one project at once', () => {
  const image = uniqueName('itest-lock');
  const prefix = uniqueName('lock');
  const project = makeProject({
    'dockerfiles/slow.Dockerfile': 'FROM helmet/busybox:latest\nRUN sleep 3\nCOPY . /app\n',
    'components/slow/component.yaml': `name: slow\nimplementation:\n  container:\n    command: [cat, /app/main.sh]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/slow.Dockerfile\n`,
    'components/slow/main.sh': 'echo slow\n',
  });
  afterAll(async () => {
    await removeImages(image);
    await removeImages(`${services.registry}/${prefix}`);
    project.cleanup();
  });

  it('the second is refused while the first writes dist/; dist/ ends consistent, with no temp or lock file; a re-run reuses', async () => {
    const push = ['--push', `${services.registry}/${prefix}`];
    const first = start(project.root, ['all', ...push, '--json']);
    await first.building;
    const second = await start(project.root, ['all', ...push]).done;
    const firstResult = await first.done;
    expect(firstResult.code, firstResult.stderr).toBe(0);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/dist is being written by another helmet-build \(pid \d+/);

    const dist = join(project.root, 'dist');
    expect(files(dist)).toEqual(['build.json', 'components/slow/component.yaml', 'inputs/slow.json']);
    const record = JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8'));
    const spec = parse(readFileSync(join(dist, 'components/slow/component.yaml'), 'utf8'));
    expect(spec.implementation.container.image).toBe(record.components.slow.image);

    const again = await start(project.root, ['all', ...push, '--json']).done;
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).not.toMatch(/"kind":"build"/);
    expect(JSON.parse(readFileSync(join(dist, 'build.json'), 'utf8')).components.slow).toMatchObject({ action: 'reused', image: record.components.slow.image });
  });
});
