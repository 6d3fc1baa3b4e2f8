/**
 * The shape of kubeflow/pipelines' components/local, written for the test: a base image whose build
 * script rsync'ed two components' src/ folders into its context (`add:` says it instead), and two
 * components whose Dockerfiles say `FROM <base>`. With both builders: the base holds the merged
 * folders (the later one's file winning), a second run builds nothing, and a change in one src/
 * folder rebuilds the base and what starts from it, nothing else.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/project.js';
import { removeImages, runImage, services, uniqueName } from '../support/services.js';

describe.each(['buildkit', 'classic'] as const)('add: folders merged into a base context (%s)', (builder) => {
  const prefix = uniqueName(`itest-add-${builder}`);
  const base = `${prefix}-base`;
  const component = (image: string) => `name: ${image}\nimplementation:\n  container:\n    image: gcr.io/ml-pipeline/${image}:1.7.0\n    command: [/bin/sh]\n`;
  const project = makeProject({
    'helmet-build.yaml': [
      'components:',
      '  - components/local/roc',
      '  - components/local/confusion_matrix',
      '  - components/other',
      'images:',
      `  ${base}:`,
      '    context: components/local/base',
      '    add:',
      '      build: [components/local/confusion_matrix/src, components/local/roc/src]',
      '',
    ].join('\n'),
    'components/local/base/Dockerfile': 'FROM helmet/busybox:latest\nADD build /ml\n',
    'components/local/roc/component.yaml': component(`${prefix}-roc`),
    'components/local/roc/Dockerfile': `FROM ${base}\nCMD ["/bin/sh", "-c", "cd /ml && ls && cat common.py"]\n`,
    'components/local/roc/src/roc.py': 'print("roc")\n',
    'components/local/roc/src/common.py': 'SOURCE = "roc"\n',
    'components/local/confusion_matrix/component.yaml': component(`${prefix}-cm`),
    'components/local/confusion_matrix/Dockerfile': `FROM ${base}\n`,
    'components/local/confusion_matrix/src/confusion_matrix.py': 'print("cm")\n',
    'components/local/confusion_matrix/src/common.py': 'SOURCE = "confusion_matrix"\n',
    'components/other/component.yaml': component(`${prefix}-other`),
    'components/other/Dockerfile': 'FROM helmet/busybox:latest\nCOPY . /other\n',
  });
  afterAll(async () => {
    await removeImages(`${services.registry}/${prefix}`);
    project.cleanup();
  });
  const push = `${services.registry}/${prefix}`;

  it('the base holds both src/ folders, the later one winning; a second run builds nothing', async () => {
    const r = await runCli(['all', '--push', push, '--builder', builder], project.root);
    expect(r.code, r.stderr).toBe(0);
    const { components } = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(components[base].image).toMatch(new RegExp(`^${push}/${base}@sha256:[0-9a-f]{64}$`));
    expect((await runImage(components.roc.image)).output).toBe('common.py\nconfusion_matrix.py\nroc.py\nSOURCE = "roc"\n');
    const again = await runCli(['all', '--push', push, '--builder', builder], project.root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('done: 4 reused');
  });

  it('a change in roc/src rebuilds the base, roc and confusion_matrix, and nothing else', async () => {
    writeFileSync(join(project.root, 'components/local/roc/src/roc.py'), 'print("roc v2")\n');
    const r = await runCli(['plan', '--push', push, '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { components: { component: string; state: string }[] };
    expect(Object.fromEntries(plan.components.map((e) => [e.component, e.state]))).toEqual({
      [base]: 'needs-build',
      roc: 'needs-build',
      confusion_matrix: 'needs-build',
      other: 'up-to-date',
    });
  });
});
