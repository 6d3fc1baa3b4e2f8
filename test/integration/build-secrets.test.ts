import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeProject, runCli, snapshotTree } from '../support/project.js';
import { docker, removeImages, runImage, uniqueName } from '../support/services.js';

/** Everything `docker save` writes for an image: its config, history and every layer, uncompressed. */
async function savedImage(ref: string): Promise<Buffer> {
  const stream = (await docker.getImage(ref).get()) as NodeJS.ReadableStream;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function secretProject(image: string, secrets = '[pip]') {
  return makeProject({
    'dockerfiles/secret.Dockerfile': [
      'FROM helmet/busybox:latest',
      // What the build saw, as a hash: the value itself never enters a layer.
      'RUN --mount=type=secret,id=pip,required=true sha256sum /run/secrets/pip | cut -d" " -f1 > /seen',
      'RUN test ! -e /run/secrets/pip',
      'CMD ["cat", "/seen"]',
      '',
    ].join('\n'),
    'components/app/component.yaml': [
      'name: app',
      'implementation:',
      '  container:',
      '    command: [cat, /seen]',
      'build:',
      `  image: ${image}`,
      '  dockerfile: dockerfiles/secret.Dockerfile',
      `  secrets: ${secrets}`,
      '',
    ].join('\n'),
  });
}

describe('build secrets (--secret, build.secrets)', () => {
  const image = uniqueName('itest-secret');
  const value = `s3cret-${randomBytes(12).toString('hex')}`;
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');
  const projects: { cleanup: () => void }[] = [];
  afterEach(() => {
    delete process.env.PIP_TOKEN;
  });
  afterAll(async () => {
    await removeImages(image);
    for (const p of projects) p.cleanup();
  });

  for (const via of ['env', 'src'] as const) {
    it(`--secret id=pip,${via}=…: the build sees the value; it is nowhere in the image, dist/, the output or the --json events`, async () => {
      const project = secretProject(image);
      projects.push(project);
      const secretValue = `${value}-${via}`;
      let flag: string;
      if (via === 'env') {
        process.env.PIP_TOKEN = secretValue;
        flag = 'id=pip,env=PIP_TOKEN';
      } else {
        writeFileSync(join(project.root, 'pip-token.txt'), secretValue);
        flag = 'id=pip,src=pip-token.txt';
      }
      const r = await runCli(['build', 'app', '--builder', 'buildkit', '--secret', flag, '--json', '-v', '--no-cache'], project.root);
      expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
      const report = JSON.parse(snapshotTree(project.root)['dist/build.json']!);
      const imageId = report.components.app.imageId as string;
      expect((await runImage(imageId)).output.trim()).toBe(sha(secretValue));
      const saved = await savedImage(imageId);
      expect(saved.length).toBeGreaterThan(100_000);
      expect(saved.includes(Buffer.from(secretValue))).toBe(false);
      expect(saved.includes(Buffer.from(value))).toBe(false);
      const dist = Object.entries(snapshotTree(join(project.root, 'dist')));
      expect(dist.length).toBeGreaterThan(2);
      for (const [, text] of dist) expect(text).not.toContain(value);
      expect(r.stdout).toContain('"type":"build-step"');
      for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(value);
    }, 120_000);
  }

  it('a needed secret not given: exit 2 naming the component and the id, nothing built, dist/ unchanged', async () => {
    const project = secretProject(`${image}-missing`);
    projects.push(project);
    const before = snapshotTree(project.root);
    const r = await runCli(['build', 'app'], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/component app needs build secret "pip"/);
    expect(snapshotTree(project.root)).toEqual(before);
    expect((await docker.listImages()).flatMap((i) => i.RepoTags ?? []).filter((t) => t.startsWith(`${image}-missing`))).toEqual([]);
  });

  it('--secret with a src file that does not exist, or an unset variable: exit 2 naming the id; build.secrets with --builder classic: exit 2', async () => {
    const project = secretProject(`${image}-bad`);
    projects.push(project);
    const before = snapshotTree(project.root);
    const noFile = await runCli(['build', 'app', '--secret', 'id=pip,src=nope.txt'], project.root);
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toMatch(/--secret id=pip: src file .*nope\.txt does not exist/);
    const noVar = await runCli(['build', 'app', '--secret', 'id=pip,env=HELMET_TEST_UNSET_VARIABLE'], project.root);
    expect(noVar.code).toBe(2);
    expect(noVar.stderr).toMatch(/--secret id=pip: environment variable HELMET_TEST_UNSET_VARIABLE is not set/);
    process.env.PIP_TOKEN = value;
    const classic = await runCli(['build', 'app', '--builder', 'classic', '--secret', 'id=pip,env=PIP_TOKEN'], project.root);
    expect(classic.code).toBe(2);
    expect(classic.stderr).toMatch(/component app needs secret "pip" .*classic builder cannot mount/);
    expect(classic.stderr).not.toContain(value);
    expect(snapshotTree(project.root)).toEqual(before);
  });
});

describe('credential-looking build args', () => {
  const image = uniqueName('itest-credarg');
  const token = `tok${randomBytes(10).toString('hex')}`;
  const url = `https://ci:${token}@pypi.corp.example/simple`;
  const project = makeProject({
    'dockerfiles/arg.Dockerfile': [
      'FROM helmet/busybox:latest',
      'ARG PIP_INDEX_URL',
      'ARG API_TOKEN',
      'RUN test -n "$PIP_INDEX_URL" && echo "index: $PIP_INDEX_URL" && echo "token: ${API_TOKEN}"',
      '',
    ].join('\n'),
    'components/app/component.yaml': [
      'name: app',
      'implementation:',
      '  container:',
      '    command: ["true"]',
      'build:',
      `  image: ${image}`,
      '  dockerfile: dockerfiles/arg.Dockerfile',
      '',
    ].join('\n'),
  });
  afterAll(async () => {
    await removeImages(image);
    project.cleanup();
  });

  for (const builder of ['buildkit', 'classic'] as const) {
    it(`${builder}: a warning names the arg and points to --secret; the value shows and is recorded as sha256:<hex> only (step names, output, events, dist/)`, async () => {
      const apiToken = `${token}-${builder}`;
      const r = await runCli(
        ['build', 'app', '--builder', builder, '--build-arg', `PIP_INDEX_URL=${url}`, '--build-arg', `API_TOKEN=${apiToken}`, '--json', '-v', '--no-cache'],
        project.root,
      );
      expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
      const events = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const warnings = events.filter((e) => e.type === 'warning').map((e) => e.message as string);
      expect(warnings.some((w) => /build arg PIP_INDEX_URL looks like a credential.*--secret/.test(w))).toBe(true);
      expect(warnings.some((w) => /build arg API_TOKEN looks like a credential/.test(w))).toBe(true);
      const hash = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
      // The RUN step printed both values: its output lines show their hashes.
      const logs = events.filter((e) => e.type === 'job-log').map((e) => e.line as string);
      expect(logs.some((l) => l.includes(`index: ${hash(url)}`))).toBe(true);
      expect(logs.some((l) => l.includes(`token: ${hash(apiToken)}`))).toBe(true);
      for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(token);
      const dist = snapshotTree(join(project.root, 'dist'));
      for (const text of Object.values(dist)) expect(text).not.toContain(token);
      expect(JSON.parse(dist['inputs/app.json']!).args).toMatchObject({ PIP_INDEX_URL: hash(url), API_TOKEN: hash(apiToken) });
    }, 120_000);
  }
});
