/**
 * A context that changes between the plan (its input digest) and its build — here while the base it
 * starts from is still building — fails that component with CONTEXT_CHANGED naming the path, on
 * both builders, and leaves no content tag on an image built from other inputs.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject } from '../support/project.js';
import { docker, removeImages, uniqueName } from '../support/services.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'helmet-build.js');

/** Run the CLI; `whenBaseBuilds` runs once the base's build job has started. */
function runWhileBaseBuilds(
  root: string,
  args: string[],
  whenBaseBuilds: () => void,
): Promise<{ code: number | null; events: Record<string, unknown>[]; stderr: string }> {
  const child = spawn('node', [BIN, '-C', root, ...args, '--json'], { env: process.env });
  let stdout = '';
  let stderr = '';
  let changed = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (!changed && /"type":"job-started","job":"build:base"/.test(stdout)) {
      changed = true;
      whenBaseBuilds();
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('exit', (code) =>
      resolve({
        code,
        stderr,
        events: stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      }),
    ),
  );
}

const CHANGES: { name: string; change: (app: string) => void; path: string }[] = [
  { name: 'a file deleted', change: (app) => unlinkSync(join(app, 'data.txt')), path: 'data.txt' },
  { name: 'a file edited (same size)', change: (app) => writeFileSync(join(app, 'data.txt'), 'DATA\n'), path: 'data.txt' },
  { name: 'a file added to a folder that was walked', change: (app) => writeFileSync(join(app, 'lib/new.py'), 'print(1)\n'), path: 'lib/new.py' },
  {
    name: 'a file replaced by a folder',
    change: (app) => {
      unlinkSync(join(app, 'data.txt'));
      mkdirSync(join(app, 'data.txt'));
    },
    path: 'data.txt',
  },
];

describe.each(['buildkit', 'classic'] as const)('context changed between plan and build (%s)', (builder) => {
  const base = uniqueName(`itest-ctx-base-${builder}`);
  const app = uniqueName(`itest-ctx-app-${builder}`);
  afterAll(async () => {
    await removeImages(base);
    await removeImages(app);
  });

  // One run, one dependant per kind of change: each fails alone, naming its own path.
  it('a file deleted, edited (same size), added to a walked folder, replaced by a folder: CONTEXT_CHANGED naming the path, and no content tag on the image', async () => {
    const apps = CHANGES.map((c, i) => ({ ...c, component: `app${i}` }));
    const project = makeProject({
      // The base's slow step is the window in which the dependants' contexts change.
      'dockerfiles/base.Dockerfile': 'FROM helmet/busybox:latest\nARG NONCE\nRUN echo "$NONCE" && sleep 2\n',
      'dockerfiles/app.Dockerfile': 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\n',
      'components/base/component.yaml': `name: base\nimplementation:\n  container:\n    command: [sh]\nbuild:\n  image: ${base}\n  dockerfile: dockerfiles/base.Dockerfile\n`,
      ...Object.fromEntries(
        apps.flatMap((a) => [
          [
            `components/${a.component}/component.yaml`,
            `name: ${a.component}\nimplementation:\n  container:\n    command: [cat, /app/data.txt]\nbuild:\n  image: ${app}-${a.component}\n  dockerfile: dockerfiles/app.Dockerfile\n  from: base\n`,
          ],
          [`components/${a.component}/data.txt`, 'data\n'],
          [`components/${a.component}/lib/util.py`, 'X = 1\n'],
        ]),
      ),
    });
    try {
      const r = await runWhileBaseBuilds(project.root, ['all', '--builder', builder, '--build-arg', `base:NONCE=${uniqueName('n')}`], () => {
        for (const a of apps) a.change(join(project.root, 'components', a.component));
      });
      expect(r.code, r.stderr).toBe(1);
      expect(r.events.some((e) => e.type === 'job-finished' && e.subject === 'base' && e.outcome === 'succeeded')).toBe(true);
      const plan = r.events.find((e) => e.type === 'plan') as { entries: { component: string; contentTag: string }[] };
      for (const a of apps) {
        const failed = r.events.find((e) => e.type === 'job-finished' && e.subject === a.component && e.outcome === 'failed') as
          | { error: { code: string; message: string } }
          | undefined;
        expect(failed?.error.code, `${a.name}: ${JSON.stringify(r.events.filter((e) => e.type === 'job-finished'))}\n${r.stderr}`).toBe('CONTEXT_CHANGED');
        expect(failed?.error.message, a.name).toContain(a.path);
        // No image carries the content tag of inputs it was not built from.
        const tag = plan.entries.find((e) => e.component === a.component)!.contentTag;
        await expect(docker.getImage(`${app}-${a.component}:${tag}`).inspect(), a.name).rejects.toMatchObject({ statusCode: 404 });
      }
    } finally {
      rmSync(project.root, { recursive: true, force: true });
    }
  });
});
