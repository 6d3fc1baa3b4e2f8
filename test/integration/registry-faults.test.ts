import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CredentialSource } from '../../src/registry/credentials.js';
import { RegistryClient } from '../../src/registry/registry-client.js';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';
import { registryProxy } from '../support/registry-proxy.js';
import { removeImages, services, uniqueName } from '../support/services.js';

/** Faults injected by a loopback proxy in front of the real registry; every run goes through it. */
describe('registry faults: retried when transient, final and named when not', () => {
  const prefix = uniqueName('itest-faults');
  const hosts: string[] = [];
  afterAll(async () => {
    for (const h of hosts) await removeImages(`${h}/${prefix}`);
  });

  it('a plain-HTTP registry costs one TLS handshake a run, however many lookups are in flight', async () => {
    const proxy = await registryProxy(services.registry);
    const names = ['plain-a', 'plain-b', 'plain-c', 'plain-d'];
    const project = makeProject(Object.assign({ ...TINY_DOCKERFILE }, ...names.map((n) => tinyComponent(n, n, `${n} ${prefix}`))));
    try {
      const r = await runCli(['plan', '--push', `${proxy.host}/${prefix}`, '--json'], project.root);
      expect(r.code, r.stderr).toBe(0);
      const lookups = proxy.seen.filter((s) => s.startsWith('GET') && s.includes('/manifests/in-'));
      expect(lookups.length).toBe(names.length);
      // dockerd's order for an insecure registry: TLS first, then plain HTTP, remembered for the run.
      expect(proxy.tlsHellos()).toBe(1);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });

  it('lookups in flight at once wait for the first to learn that the registry speaks plain HTTP', async () => {
    const proxy = await registryProxy(services.registry);
    try {
      const client = new RegistryClient(new CredentialSource({ env: {}, dockerConfigDir: '/nonexistent' }));
      const tags = ['t1', 't2', 't3', 't4', 't5', 't6'];
      const digests = await Promise.all(tags.map((t) => client.manifestDigest(proxy.host, `${prefix}/absent`, t)));
      expect(digests).toEqual(tags.map(() => undefined));
      expect(proxy.seen.filter((s) => s.includes('/manifests/')).length).toBe(tags.length);
      expect(proxy.tlsHellos()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it('a connection reset on the lookup is retried, and the run succeeds', async () => {
    let resets = 1;
    const proxy = await registryProxy(services.registry, (req) =>
      req.method === 'GET' && req.url!.includes('/manifests/in-') && resets > 0 ? (resets--, { reset: true }) : undefined,
    );
    hosts.push(proxy.host);
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('reset', 'reset', `reset ${prefix}`) });
    try {
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`], project.root);
      expect(r.code, r.stderr).toBe(0);
      expect(resets).toBe(0);
      expect(proxy.seen.filter((s) => s.startsWith('GET') && s.includes('/manifests/in-')).length).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });

  it('a 401 is asked once, never retried, and reported as credentials (exit 1), not as unreachable', async () => {
    const proxy = await registryProxy(services.registry, (req) => (req.url!.includes('/manifests/') ? { status: 401 } : undefined));
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('locked', 'locked', 'locked') });
    try {
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`], project.root);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('FAILED (REGISTRY_AUTH)');
      expect(r.stderr).not.toMatch(/unreachable|cannot reach/i);
      expect(proxy.seen.filter((s) => s.includes('/manifests/')).length).toBe(1);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });

  it('a Docker-Content-Digest header that is not the digest of the manifest served: exit 1, the digest is never pinned', async () => {
    const push = `${services.registry}/${prefix}`;
    const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('honest', 'honest', `honest ${prefix}`) });
    hosts.push(services.registry);
    const lie = `sha256:${'e'.repeat(64)}`;
    const proxy = await registryProxy(services.registry, (req) =>
      req.method === 'GET' && req.url!.includes('/manifests/in-') ? { answerHeaders: { 'docker-content-digest': lie } } : undefined,
    );
    try {
      // Pushed directly first, so the lying proxy's lookup finds the image and would reuse it.
      expect((await runCli(['all', '--push', push], project.root)).code).toBe(0);
      const r = await runCli(['all', '--push', `${proxy.host}/${prefix}`], project.root);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`says ${prefix}/honest:in-[0-9a-f]+ is ${lie}, but the manifest it served is sha256:[0-9a-f]{64}`));
      const spec = join(project.root, 'dist/components/honest/component.yaml');
      expect(existsSync(spec) && readFileSync(spec, 'utf8')).not.toContain(lie);
      const entry = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.honest;
      expect(entry).toMatchObject({ action: 'failed', error: { code: 'REGISTRY_ERROR' } });
      expect(JSON.stringify({ ...entry, error: undefined })).not.toContain(lie);
    } finally {
      await proxy.close();
      project.cleanup();
    }
  });
});
