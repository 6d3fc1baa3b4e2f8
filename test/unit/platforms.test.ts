/** Platforms: how a component's set is read and overridden, what more than one needs, and the index joining them. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadProject } from '../../src/project/load-project.js';
import type { BuiltComponent } from '../../src/project/model.js';
import { checkPlatforms, localPlatforms, platformsOf } from '../../src/project/platform-needs.js';
import { imageIndex, platformDescriptor, platformDigests } from '../../src/registry/image-index.js';
import { runCli, TINY_DOCKERFILE, tinyComponent, useProjects } from '../support/project.js';

const project = useProjects();

function built(root: string): BuiltComponent[] {
  return loadProject(root).components.filter((c): c is BuiltComponent => c.kind === 'built');
}

describe('the platforms of a component', () => {
  it('come from build.platforms, build.platform alone, or the project default; --platform overrides them all', () => {
    const withLine = (name: string, line: string) => ({
      [`components/${name}/component.yaml`]: `${tinyComponent(name, name, 'x')[`components/${name}/component.yaml`]}  ${line}\n`,
    });
    const root = project({
      ...TINY_DOCKERFILE,
      'helmet-build.yaml': 'platforms: [linux/arm64, linux/amd64]\n',
      ...tinyComponent('dflt', 'dflt', 'x'),
      ...withLine('one', 'platform: linux/s390x'),
      ...withLine('own', 'platforms: [linux/ppc64le, linux/arm/v7]'),
    });
    const byName = Object.fromEntries(built(root).map((c) => [c.name, c]));
    expect(platformsOf(byName.dflt!, undefined)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(platformsOf(byName.one!, undefined)).toEqual(['linux/s390x']);
    expect(platformsOf(byName.own!, undefined)).toEqual(['linux/arm/v7', 'linux/ppc64le']);
    expect(platformsOf(byName.own!, ['linux/s390x', 'linux/amd64'])).toEqual(['linux/amd64', 'linux/s390x']);
  });

  it('build.platform and build.platforms together, or a platform that is no os/arch, are refused with file and line', () => {
    const both = project({
      ...TINY_DOCKERFILE,
      'components/a/component.yaml': `${tinyComponent('a', 'a', 'x')['components/a/component.yaml']}  platform: linux/amd64\n  platforms: [linux/arm64]\n`,
    });
    const e = (() => {
      try {
        loadProject(both);
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(e).toBeInstanceOf(ConfigError);
    expect(e!.message).toMatch(/components\/a\/component\.yaml:\d+:\d+: build\.platforms: give platform \(one\) or platforms \(a list\), not both/);
    const bad = project({ ...TINY_DOCKERFILE, 'helmet-build.yaml': 'platforms: [arm64]\n', ...tinyComponent('a', 'a', 'x') });
    expect(() => loadProject(bad)).toThrow(/helmet-build\.yaml:1:\d+: platforms\.0: must be a platform os\/arch\[\/variant\], e\.g\. linux\/arm64/);
  });

  it('more than one needs BuildKit and a base built for each; every problem is named at once', () => {
    const root = project({
      ...TINY_DOCKERFILE,
      ...tinyComponent('base', 'base', 'x'),
      ...tinyComponent('app', 'app', 'x'),
    });
    const [base, app] = built(root)
      .sort((a, b) => a.name.localeCompare(b.name))
      .reverse();
    app!.base = base;
    app!.build.platforms = ['linux/amd64', 'linux/arm64'];
    base!.build.platforms = ['linux/amd64'];
    const problems = (() => {
      try {
        checkPlatforms([base!, app!], { builder: 'classic' });
      } catch (e) {
        return (e as Error).message.split('\n');
      }
    })();
    expect(problems).toEqual([
      'component app is built for linux/amd64, linux/arm64: the classic builder builds for one platform; build it with BuildKit',
      'component app is built for linux/arm64, which its base base is not built for (linux/amd64): add it to the platforms of base',
    ]);
    base!.build.platforms = ['linux/amd64', 'linux/arm64'];
    expect(() => checkPlatforms([base!, app!], { builder: 'auto' })).not.toThrow();
  });

  it("without --push, several platforms narrow to the engine's own, with one warning; a set without it is refused", () => {
    const root = project({ ...TINY_DOCKERFILE, 'helmet-build.yaml': 'platforms: [linux/amd64, linux/arm64]\n', ...tinyComponent('a', 'a', 'x') });
    const components = built(root);
    expect(localPlatforms(components, undefined, 'linux/arm64').warning).toContain(
      "only the engine's own platform linux/arm64 is built for a (not linux/amd64",
    );
    expect(platformsOf(components[0]!, undefined, 'linux/arm64')).toEqual(['linux/arm64']);
    expect(localPlatforms(components, ['linux/amd64'], 'linux/arm64')).toEqual({});
    expect(() => localPlatforms(components, undefined, 'linux/s390x')).toThrow(
      "component a is built for linux/amd64, linux/arm64, not for the engine's own linux/s390x: give --push REGISTRY to build them all",
    );
  });

  it('--platform is a comma-separated list of os/arch: anything else is exit 2 before the project is read', async () => {
    const root = project({ ...TINY_DOCKERFILE, ...tinyComponent('a', 'a', 'x') });
    const r = await runCli(['plan', '--platform', 'linux/amd64,arm64'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--platform: "arm64" is not a platform os/arch[/variant]');
  });
});

describe('the image index of several platforms', () => {
  const manifest = (mediaType: string, body: object) => {
    const bytes = Buffer.from(JSON.stringify(body));
    return { mediaType, body: bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
  };

  it('describes each platform by the manifest its push left, and its digest is that of its bytes', () => {
    const amd = manifest('application/vnd.docker.distribution.manifest.v2+json', { schemaVersion: 2, layers: [] });
    const index = imageIndex([platformDescriptor('linux/amd64', amd)]);
    const parsed = JSON.parse(index.body.toString('utf8'));
    expect(parsed.manifests).toEqual([
      { mediaType: amd.mediaType, digest: amd.digest, size: amd.body.length, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    expect(index.digest).toBe(`sha256:${createHash('sha256').update(index.body).digest('hex')}`);
    expect(platformDigests(index)).toEqual({ 'linux/amd64': amd.digest });
  });

  it('a push that left an index of its own gives its entry for the platform (attestations aside): indexes never nest', () => {
    const own = manifest('application/vnd.oci.image.index.v1+json', {
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: 'sha256:aa',
          size: 10,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
        { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:bb', size: 5, platform: { os: 'unknown', architecture: 'unknown' } },
      ],
    });
    expect(platformDescriptor('linux/arm64', own)).toEqual({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: 'sha256:aa',
      size: 10,
      platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    });
    expect(() => platformDescriptor('linux/amd64', own)).toThrow(/holds no manifest for that platform/);
    expect(platformDigests(own)).toEqual({ 'linux/arm64/v8': 'sha256:aa' });
  });
});
