// What the benchmarks share: the local services' environment, and the build args that build the
// helmet components offline from the local Python base.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const here = new URL('..', import.meta.url).pathname;

/** process.env plus DOCKER_HOST and the test registries of scripts/services.sh. */
export function servicesEnv() {
  const env = { ...process.env };
  if (!env.DOCKER_HOST || !env.HELMET_TEST_REGISTRY || (!env.HELMET_MODERN_DOCKER_HOST && !env.HELMET_SKIP_MODERN_ENGINE)) {
    const out = execFileSync('bash', [join(here, 'scripts/services.sh'), 'env'], { encoding: 'utf8' });
    for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] ??= m[2];
  }
  return env;
}

/**
 * The engine a figure was measured on, for its header line: version, storage driver, image store
 * (the containerd store reports its snapshotter as the driver status `driver-type`).
 */
export function engineLabel(env, docker = 'docker') {
  const [version, driver, status] = execFileSync(docker, ['info', '--format', '{{.ServerVersion}}\t{{.Driver}}\t{{json .DriverStatus}}'], {
    env,
    encoding: 'utf8',
  })
    .trim()
    .split('\t');
  const store = status.includes('io.containerd.snapshotter') ? 'containerd image store' : 'classic image store';
  const name = version.startsWith('20.10') ? `dockerd ${version} (Debian 12)` : `Docker ${version}`;
  return `${name}, storage driver ${driver}, ${store}`;
}

export const OFFLINE = [
  '--build-arg',
  'BASE_IMAGE=helmet/python:3.11',
  '--build-arg',
  'train:ABSENT_FRAMEWORKS=ultralytics,torch',
  '--build-arg',
  'rknn-convert:ABSENT_FRAMEWORKS=rknn-toolkit2',
];
