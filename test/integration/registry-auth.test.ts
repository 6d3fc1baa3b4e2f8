import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { makeProject, runCli, TINY_DOCKERFILE, tinyComponent } from '../support/project.js';
import { registryDigest, removeImages, services, uniqueName } from '../support/services.js';

/** The second local registry requires htpasswd credentials (scripts/services.sh). */
describe('pushing to a registry that requires credentials', () => {
  const prefix = uniqueName('itest-auth');
  const project = makeProject({ ...TINY_DOCKERFILE, ...tinyComponent('secure', 'secure', 'secure') });
  const saved = { ...process.env };
  const configDir = mkdtempSync(join(tmpdir(), 'helmet-docker-config-'));

  afterEach(() => {
    for (const k of ['HELMET_REGISTRY_USER', 'HELMET_REGISTRY_PASSWORD', 'DOCKER_CONFIG']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  afterAll(async () => {
    await removeImages(`${services.authRegistry}/${prefix}`);
    project.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('without credentials: exit 1, says how to log in', async () => {
    process.env.DOCKER_CONFIG = configDir; // empty: no credentials anywhere
    const r = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`, '--no-cache'], project.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/requires credentials|no basic auth credentials|unauthorized/);
    expect(r.stderr).toMatch(/HELMET_REGISTRY_USER|docker login/);
  });

  it('with HELMET_REGISTRY_USER/PASSWORD: pushes, pins the registry digest, never prints the password', async () => {
    process.env.DOCKER_CONFIG = configDir;
    process.env.HELMET_REGISTRY_USER = services.authUser;
    process.env.HELMET_REGISTRY_PASSWORD = services.authPassword;
    const r = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`, '--json', '-v'], project.root);
    expect(r.code).toBe(0);
    const report = readFileSync(join(project.root, 'dist/build.json'), 'utf8');
    const entry = JSON.parse(report).components.secure;
    const digest = await registryDigest(services.authRegistry, `${prefix}/secure`, entry.tags[0], `${services.authUser}:${services.authPassword}`);
    expect(entry.digest).toBe(digest);
    for (const text of [r.stdout, r.stderr, report]) expect(text).not.toContain(services.authPassword);
  });

  it('with credentials from the Docker config (auths): reuses the pushed image', async () => {
    writeFileSync(
      join(configDir, 'config.json'),
      JSON.stringify({
        auths: { [`http://${services.authRegistry}`]: { auth: Buffer.from(`${services.authUser}:${services.authPassword}`).toString('base64') } },
      }),
    );
    process.env.DOCKER_CONFIG = configDir;
    const r = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`], project.root);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/up to date: .*@sha256:/);
    expect(r.stderr).toContain('done: 1 reused');
    expect(r.stderr).not.toContain(services.authPassword);
  });

  it('wrong credentials: exit 1 with a hint, and the wrong password is not echoed', async () => {
    process.env.DOCKER_CONFIG = configDir;
    process.env.HELMET_REGISTRY_USER = services.authUser;
    process.env.HELMET_REGISTRY_PASSWORD = 'not-the-password-xyz';
    const r = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`], project.root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rejected the credentials');
    expect(r.stderr).not.toContain('not-the-password-xyz');
  });

  it('--username with --password-stdin: the password comes from standard input, and is never printed', async () => {
    process.env.DOCKER_CONFIG = configDir;
    writeFileSync(join(configDir, 'config.json'), '{}');
    const other = `${prefix}-stdin`;
    const push = ['--push', `${services.authRegistry}/${other}`];
    const r = await runCli(['all', ...push, '--username', services.authUser, '--password-stdin', '--json'], project.root, `${services.authPassword}\n`);
    expect(r.code, r.stderr).toBe(0);
    const entry = JSON.parse(readFileSync(join(project.root, 'dist/build.json'), 'utf8')).components.secure;
    expect(entry.digest).toBe(await registryDigest(services.authRegistry, `${other}/secure`, entry.tags[0], `${services.authUser}:${services.authPassword}`));
    const doctor = await runCli(['doctor', ...push, '--username', services.authUser, '--password-stdin'], project.root, services.authPassword);
    expect(doctor.stdout).toMatch(/credentials: from --password-stdin/);
    for (const text of [r.stdout, r.stderr, doctor.stdout, doctor.stderr]) expect(text).not.toContain(services.authPassword);
    await removeImages(`${services.authRegistry}/${other}`);
  });

  it('--password-stdin with nothing on standard input, or without a user name: exit 2 before anything runs', async () => {
    const empty = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`, '--username', 'u', '--password-stdin'], project.root, '');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/standard input was empty/);
    delete process.env.HELMET_REGISTRY_USER;
    const nameless = await runCli(['all', '--push', `${services.authRegistry}/${prefix}`, '--password-stdin'], project.root, 'pw');
    expect(nameless.code).toBe(2);
    expect(nameless.stderr).toMatch(/needs a user name/);
  });
});
