import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, uniqueName } from '../support/services.js';

/** `helmet-build run` on the job graph: steps that do not depend on each other run at once. */
describe('run: independent steps in parallel (real engine)', () => {
  const image = uniqueName('itest-parallel');
  const component = (name: string) =>
    `name: ${name}\nimplementation:\n  container:\n    command: [sh, -c, 'echo ${name} begins; sleep 2; echo ${name} ends']\nbuild:\n  image: ${image}-${name}\n  dockerfile: Dockerfile\n`;
  const project = makeProject({
    Dockerfile: 'FROM helmet/busybox:latest\n',
    'components/left/component.yaml': component('left'),
    'components/right/component.yaml': component('right'),
    'pipeline.yaml': 'name: fork\nsteps:\n  left: {component: left}\n  right: {component: right}\n  join: {component: left, after: [left, right]}\n',
  });
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  it('two independent steps overlap; the step after both starts when both finished', async () => {
    const r = await runCli(['run', '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const index = (type: string, subject: string) => events.findIndex((e) => e.type === type && e.kind === 'step' && e.subject === subject);
    // Both started before either finished.
    expect(Math.max(index('job-started', 'left'), index('job-started', 'right'))).toBeLessThan(
      Math.min(index('job-finished', 'left'), index('job-finished', 'right')),
    );
    expect(index('job-started', 'join')).toBeGreaterThan(Math.max(index('job-finished', 'left'), index('job-finished', 'right')));
    expect(events.at(-1).steps.map((s: { step: string; status: string }) => `${s.step}:${s.status}`)).toEqual([
      'left:succeeded',
      'right:succeeded',
      'join:succeeded',
    ]);
  });
});
