/**
 * Images for several platforms (Docker 26.1, BuildKit, QEMU emulation from scripts/services.sh):
 * each platform built on its own and pushed, joined in one OCI image index under the content tag,
 * and pinned by the index digest. A client outside the project (buildx imagetools) reads the index;
 * the registry's own blobs show that the arm64 RUN step really ran as arm64; a FROM of a project base
 * resolves per platform to that platform's image of the base.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli, withEnv } from '../support/project.js';
import { services, uniqueName } from '../support/services.js';

const engine = process.env.HELMET_MODERN_DOCKER_HOST;
const arm64Busybox = process.env.HELMET_TEST_ARM64_BUSYBOX;
// They need Docker 26.1 and the emulation the services script sets up; only an explicit opt-out of those leaves them out.
const optedOut = !!process.env.HELMET_SKIP_MODERN_ENGINE || !!process.env.HELMET_SKIP_EMULATION;
if (!optedOut && (!engine || !arm64Busybox)) {
  throw new Error('HELMET_MODERN_DOCKER_HOST or HELMET_TEST_ARM64_BUSYBOX is not set: start the services with scripts/services.sh up');
}
const PLATFORMS = ['linux/amd64', 'linux/arm64'];

/** Busybox of the build's platform, then a RUN whose output says which machine ran it. */
const ARCH_DOCKERFILE = [
  'FROM scratch',
  'ARG TARGETARCH',
  'COPY busybox-${TARGETARCH} /bin/busybox',
  'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch"]',
  '',
].join('\n');

const BASED_DOCKERFILE = ['ARG BASE_IMAGE', 'FROM ${BASE_IMAGE}', 'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /app-arch"]', ''].join('\n');

function componentYaml(name: string, build: string[]): string {
  return [`name: ${name}`, 'implementation:', '  container:', '    command: [/bin/busybox, cat, /arch]', 'build:', ...build.map((l) => `  ${l}`), ''].join(
    '\n',
  );
}

async function manifestOf(repository: string, reference: string): Promise<{ mediaType: string; json: any }> {
  const res = await fetch(`http://${services.registry}/v2/${repository}/manifests/${reference}`, {
    headers: {
      Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
    },
  });
  expect(res.status).toBe(200);
  return { mediaType: res.headers.get('content-type') ?? '', json: await res.json() };
}

async function blob(repository: string, digest: string): Promise<Buffer> {
  const res = await fetch(`http://${services.registry}/v2/${repository}/blobs/${digest}`);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** A file of an image in the registry, read from its layers (newest first) with a plain tar reader. */
async function fileInImage(repository: string, manifestDigest: string, path: string): Promise<string | undefined> {
  const { json } = await manifestOf(repository, manifestDigest);
  for (const layer of [...json.layers].reverse()) {
    const tar = gunzipSync(await blob(repository, layer.digest));
    for (let at = 0; at + 512 <= tar.length; ) {
      const name = tar
        .subarray(at, at + 100)
        .toString('utf8')
        .replace(/\0.*$/s, '');
      if (!name) break;
      const size = Number.parseInt(
        tar
          .subarray(at + 124, at + 136)
          .toString('utf8')
          .replace(/\0.*$/s, '')
          .trim() || '0',
        8,
      );
      if (name.replace(/^\.?\//, '') === path) return tar.subarray(at + 512, at + 512 + size).toString('utf8');
      at += 512 + Math.ceil(size / 512) * 512;
    }
  }
  return undefined;
}

/** Remove every image tagged under `prefix` from each engine. */
async function removeTagged(hosts: string[], prefix: string): Promise<void> {
  for (const host of hosts) {
    const docker = new Docker({ socketPath: host.replace(/^unix:\/\//, '') });
    for (const img of await docker.listImages()) {
      const tags = (img.RepoTags ?? []).filter((t) => t.includes(prefix));
      for (const tag of tags)
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => undefined);
    }
  }
}

async function helmet(args: string[], root: string) {
  return withEnv({ DOCKER_HOST: engine! }, () => runCli(args, root));
}

describe.skipIf(optedOut)('images for several platforms (Docker 26.1, BuildKit, QEMU)', () => {
  const prefix = uniqueName('multi');
  const push = () => `${services.registry}/${prefix}`;
  const project = makeProject({
    'helmet-build.yaml': `platforms: [${PLATFORMS.join(', ')}]\n`,
    'components/base/component.yaml': componentYaml('base', [`image: ${prefix}-base`, 'dockerfile: components/base/Dockerfile']),
    'components/base/Dockerfile': ARCH_DOCKERFILE,
    'components/app/component.yaml': componentYaml('app', [`image: ${prefix}-app`, 'dockerfile: components/app/Dockerfile', 'from: base']),
    'components/app/Dockerfile': BASED_DOCKERFILE,
  });
  beforeAll(() => {
    copyFileSync('/bin/busybox', join(project.root, 'components/base/busybox-amd64'));
    copyFileSync(arm64Busybox!, join(project.root, 'components/base/busybox-arm64'));
  });
  afterAll(async () => {
    project.cleanup();
    await removeTagged([engine!], prefix);
  });

  const arm64Only: Record<string, string> = {};

  it('--platform linux/arm64 alone builds an arm64 image and pins its manifest, as a build for one platform always did', async () => {
    const r = await helmet(['all', '--push', push(), '--platform', 'linux/arm64', '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    for (const name of ['base', 'app']) {
      const record = report.components[name];
      expect(record.platformDigests).toBeUndefined();
      const { json } = await manifestOf(`${prefix}/${prefix}-${name}`, record.digest);
      const config = JSON.parse((await blob(`${prefix}/${prefix}-${name}`, json.config.digest)).toString('utf8'));
      expect(config.architecture).toBe('arm64');
      arm64Only[name] = record.digest;
    }
  });

  it('--platform linux/amd64,linux/arm64 pins one index per component; each platform has its own image, its RUN ran on that platform, and the arm64 image is the one built before', async () => {
    // The flag names the same set as helmet-build.yaml's platforms: (the runs after this one use that).
    const r = await helmet(['all', '--push', push(), '--platform', PLATFORMS.join(','), '--json'], project.root);
    expect(r.code, r.stderr).toBe(0);
    const events = ndjson(r.stdout);
    // Only amd64 was built: the arm64 images of the same inputs were in the registry.
    const reused = events.filter((e) => e.type === 'job-log' && / linux\/arm64: .* is in the registry already/.test(` ${e.line}`));
    expect(reused.map((e) => e.subject).sort()).toEqual(['app', 'base']);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.components.base.platformDigests['linux/arm64']).toBe(arm64Only.base);
    expect(report.components.app.platformDigests['linux/arm64']).toBe(arm64Only.app);
    for (const name of ['base', 'app']) {
      const record = report.components[name];
      expect(record.action).toBe('pushed');
      expect(Object.keys(record.platformDigests).sort()).toEqual(PLATFORMS);
      const repo = `${prefix}/${prefix}-${name}`;
      const index = await manifestOf(repo, record.digest);
      expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(index.json.manifests.map((m: any) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(PLATFORMS);
      // The spec pins the index.
      expect(readFileSync(join(project.root, `dist/components/${name}/component.yaml`), 'utf8')).toContain(`${push()}/${prefix}-${name}@${record.digest}`);
      for (const [platform, digest] of Object.entries(record.platformDigests as Record<string, string>)) {
        const { json } = await manifestOf(repo, digest);
        const config = JSON.parse((await blob(repo, json.config.digest)).toString('utf8'));
        expect(config.architecture).toBe(platform.split('/')[1]);
        const machine = platform === 'linux/arm64' ? 'aarch64' : 'x86_64';
        expect((await fileInImage(repo, digest, 'arch'))?.trim()).toBe(machine);
        // The dependant's RUN ran on its base's image of the same platform.
        if (name === 'app') expect((await fileInImage(repo, digest, 'app-arch'))?.trim()).toBe(machine);
      }
    }
    // A client outside the project reads the same index.
    const config = process.env.HELMET_MODERN_DOCKER_CONFIG;
    const cli = process.env.HELMET_MODERN_DOCKER_CLI;
    if (!config || !cli)
      throw new Error('HELMET_MODERN_DOCKER_CLI and HELMET_MODERN_DOCKER_CONFIG are not set: start the services with scripts/services.sh up');
    const raw = await execa(cli, ['buildx', 'imagetools', 'inspect', '--raw', `${push()}/${prefix}-app@${report.components.app.digest}`], {
      env: { DOCKER_CONFIG: config },
    });
    expect(JSON.parse(raw.stdout).manifests.map((m: any) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
  });

  it("a re-run builds nothing; the plan names each component's platforms", async () => {
    const again = await helmet(['all', '--push', push(), '--json'], project.root);
    expect(again.code, again.stderr).toBe(0);
    expect(ndjson(again.stdout).some((e) => e.type === 'job-started' && e.kind === 'build')).toBe(false);
    const plan = await helmet(['plan', '--push', push(), '--json'], project.root);
    const entries = JSON.parse(plan.stdout).components;
    expect(entries.map((e: any) => [e.component, e.state, e.platforms])).toEqual([
      ['base', 'up-to-date', PLATFORMS],
      ['app', 'up-to-date', PLATFORMS],
    ]);
  });

  it('without --push the engine builds its own platform alone, and says which it left out; the classic builder is refused (exit 2)', async () => {
    const local = await helmet(['all', '--json'], project.root);
    expect(local.code, local.stderr).toBe(0);
    const warning = ndjson(local.stdout).find((e) => e.type === 'warning');
    expect(warning?.message).toBe(
      "without --push only the engine's own platform linux/amd64 is built for base, app (not linux/arm64: several platforms are joined in an image index in a registry; give --push)",
    );
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    expect(report.components.app).toMatchObject({ action: 'built', pinnedBy: 'local-image-id' });
    const classic = await helmet(['all', '--push', push(), '--builder', 'classic'], project.root);
    expect(classic.code).toBe(2);
    expect(classic.stderr).toContain('the classic builder builds for one platform');
  });
});

describe.skipIf(optedOut)('builds spread over two engines (engines: in helmet-build.yaml)', () => {
  const prefix = uniqueName('engines');
  const push = () => `${services.registry}/${prefix}`;
  const classicEngine = process.env.DOCKER_HOST!;
  const files = (engines: string) => ({
    'helmet-build.yaml': `platforms: [${PLATFORMS.join(', ')}]\nengines:\n${engines}`,
    'components/base/component.yaml': componentYaml('base', [`image: ${prefix}-base`, 'dockerfile: components/base/Dockerfile']),
    'components/base/Dockerfile': ARCH_DOCKERFILE,
    'components/app/component.yaml': componentYaml('app', [`image: ${prefix}-app`, 'dockerfile: components/app/Dockerfile', 'from: base']),
    'components/app/Dockerfile': BASED_DOCKERFILE,
  });
  const twoEngines = `  - {host: "${classicEngine}", platforms: [linux/amd64]}\n  - {host: "${engine}", platforms: [linux/arm64]}\n`;
  const project = makeProject(files(twoEngines));
  const oneGone = makeProject(
    files(`  - {host: "unix:///nonexistent/docker.sock", platforms: [linux/amd64]}\n  - {host: "${engine}", platforms: [linux/arm64]}\n`),
  );
  beforeAll(() => {
    for (const p of [project, oneGone]) {
      copyFileSync('/bin/busybox', join(p.root, 'components/base/busybox-amd64'));
      copyFileSync(arm64Busybox!, join(p.root, 'components/base/busybox-arm64'));
    }
  });
  afterAll(async () => {
    project.cleanup();
    oneGone.cleanup();
    await removeTagged([classicEngine, engine!], prefix);
  });

  it('each platform is built on the engine that lists it, and build.json says which built what', async () => {
    // DOCKER_HOST names neither engine: with engines: it is not consulted for builds.
    const r = await withEnv({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' }, () => runCli(['all', '--push', push(), '--json'], project.root));
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8'));
    for (const name of ['base', 'app']) {
      expect(report.components[name].builtOn).toEqual([
        { engine: classicEngine, platform: 'linux/amd64' },
        { engine, platform: 'linux/arm64' },
      ]);
      const repo = `${prefix}/${prefix}-${name}`;
      for (const [platform, digest] of Object.entries(report.components[name].platformDigests as Record<string, string>)) {
        expect((await fileInImage(repo, digest, 'arch'))?.trim()).toBe(platform === 'linux/arm64' ? 'aarch64' : 'x86_64');
      }
    }
    // The index of app names its base's images of both platforms, built on two engines.
    expect((await fileInImage(`${prefix}/${prefix}-app`, report.components.app.platformDigests['linux/amd64'], 'app-arch'))?.trim()).toBe('x86_64');
  });

  it('an engine that does not answer is left out with a warning, and the other one does the work (emulating what it must)', async () => {
    const r = await withEnv({ DOCKER_HOST: engine! }, () => runCli(['build', 'base', '--push', `${push()}-gone`, '--json'], oneGone.root));
    expect(r.code, r.stderr).toBe(0);
    const events = ndjson(r.stdout);
    expect(events.some((e) => e.type === 'warning' && e.message.startsWith('engine unix:///nonexistent/docker.sock is left out of this run'))).toBe(true);
    const report = JSON.parse(readFileSync(join(oneGone.root, 'dist/build.json'), 'utf8'));
    expect(report.components.base.builtOn).toEqual([
      { engine, platform: 'linux/amd64', emulated: true },
      { engine, platform: 'linux/arm64' },
    ]);
  });

  it('several engines without --push are refused before anything is built (exit 2)', async () => {
    const r = await runCli(['all'], project.root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('helmet-build.yaml lists 2 engines (engines:): a build over several engines needs --push REGISTRY');
  });
});
