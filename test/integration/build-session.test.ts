import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { realServices } from '../../src/cli/context.js';
import type { HelmetEvent } from '../../src/events.js';
import { runBuild } from '../../src/flow/build.js';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, uniqueName } from '../support/services.js';

/** A step length no other test uses, so its process can be found by its command line. */
const SLOW = 57;

/** Connections and servers this process holds open (a session left open would be one of them). */
function openHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap' || r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Http2Session').length;
}

function project(image: string, dockerfile: string) {
  return makeProject({
    Dockerfile: dockerfile,
    'components/app/component.yaml': `name: app\nimplementation:\n  container:\n    command: [sh]\nbuild:\n  image: ${image}\n  dockerfile: Dockerfile\n`,
  });
}

describe('the build session', () => {
  const image = uniqueName('itest-session');
  afterAll(async () => {
    await removeImages(image);
  });

  it('lives as long as its build: after 16 s (health checks every second on 20.10), a later step still gets its secret', async () => {
    const p = project(
      image,
      'FROM helmet/busybox:latest\nRUN sleep 16\nRUN --mount=type=secret,id=late,required=true test "$(cat /run/secrets/late)" = "still here"\n',
    );
    process.env.HELMET_TEST_LATE = 'still here';
    try {
      const t0 = Date.now();
      const r = await runCli(['build', 'app', '--builder', 'buildkit', '--secret', 'id=late,env=HELMET_TEST_LATE', '--no-cache'], p.root);
      expect(r.code, r.stderr).toBe(0);
      expect(Date.now() - t0).toBeGreaterThan(16_000);
    } finally {
      delete process.env.HELMET_TEST_LATE;
      p.cleanup();
    }
  }, 120_000);

  it('is closed with a cancelled build: exit 130, no connection left open here, no RUN process left in the engine', async () => {
    const p = project(`${image}-cancel`, `FROM helmet/busybox:latest\nRUN echo started && sleep ${SLOW}\n`);
    const before = openHandles();
    const controller = new AbortController();
    const events: HelmetEvent[] = [];
    try {
      const result = await runBuild(
        { root: p.root, builder: 'buildkit', noCache: true, signal: controller.signal },
        {
          ...realServices(),
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'job-log' && e.line.includes('started')) controller.abort();
          },
        },
      );
      expect(result.exitCode).toBe(130);
      expect(events.some((e) => e.type === 'job-log' && e.line.includes('started'))).toBe(true);
      let left = openHandles();
      for (let i = 0; i < 50 && left > before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = openHandles();
      }
      expect(left).toBeLessThanOrEqual(before);
      let running = true;
      for (let i = 0; i < 50 && running; i++) {
        running = spawnSync('pgrep', ['-f', `sleep ${SLOW}$`]).status === 0;
        if (running) await new Promise((r) => setTimeout(r, 200));
      }
      expect(running).toBe(false);
    } finally {
      p.cleanup();
    }
  }, 120_000);
});
