/**
 * Two images on the same new base, pushed in one run: the base's layers are uploaded once. The engine
 * does not share an upload between push requests, so without turns each push sends the base whole;
 * a loopback proxy in front of the real registry sees every upload (and slows them, so the two
 * pushes overlap as they do with a multi-GB base).
 */
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, ndjson, runCli } from '../support/project.js';
import { registryProxy } from '../support/registry-proxy.js';
import { BUSYBOX, removeImages, services, uniqueName } from '../support/services.js';

const ON_BASE = 'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG NAME\nRUN echo "$NAME" > /name\n';

function component(name: string): Record<string, string> {
  return {
    [`components/${name}/component.yaml`]: `name: ${name}\nimplementation:\n  container:\n    command: [cat, /name]\nbuild:\n  image: ${name}\n  dockerfile: dockerfiles/on-base.Dockerfile\n  args: {NAME: ${name}}\n`,
  };
}

describe('pushes of images that share a base not yet in the registry', () => {
  const prefix = uniqueName('itest-shared');
  const base = `${prefix}-base:local`;
  const hosts: string[] = [];
  afterAll(async () => {
    await removeImages(prefix);
    for (const h of hosts) await removeImages(`${h}/${prefix}`);
  });

  it("upload the base's layers once; the second push finds them in the registry", async () => {
    // A base of its own (busybox and 8 MB of random bytes) that no registry has seen.
    await execa('docker', ['build', '-q', '-t', base, '-'], {
      input: `FROM ${BUSYBOX}\nRUN head -c 8000000 /dev/urandom > /weights\n`,
      env: { DOCKER_BUILDKIT: '0' },
    });
    // Every chunk of an upload waits a little: each push takes long enough for the two to overlap.
    const proxy = await registryProxy(services.registry, (req) => (req.method === 'PATCH' || req.method === 'PUT' ? { delayMs: 300 } : undefined));
    hosts.push(proxy.host);
    const project = makeProject({ 'dockerfiles/on-base.Dockerfile': ON_BASE, ...component('first'), ...component('second') });
    try {
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`, '--build-arg', `BASE_IMAGE=${base}`, '--json'], project.root);
      expect(r.code, r.stderr).toBe(0);
      const uploads = proxy.seen
        .filter((s) => s.startsWith('PUT') && s.includes('/blobs/uploads/'))
        .map((s) => /digest=(sha256(?::|%3A)[0-9a-f]{64})/.exec(s)?.[1]);
      const times = new Map<string, number>();
      for (const d of uploads) if (d) times.set(d, (times.get(d) ?? 0) + 1);
      // Each blob once: busybox's layer, the weights, each image's own layer, each image's config.
      expect(
        [...times.values()].every((n) => n === 1),
        JSON.stringify(Object.fromEntries(times)),
      ).toBe(true);
      expect(times.size).toBeGreaterThanOrEqual(6);
      // The second push was told the base's layers were there already (mounted from the first repository, or present).
      const existed = ndjson(r.stdout).filter((e) => e.type === 'push-progress' && e.finishedLayer?.existed);
      expect(existed.length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });
});
