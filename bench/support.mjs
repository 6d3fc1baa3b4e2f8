// What the benchmarks share: the local services' environment, and the build args that build the
// helmet components offline from the local Python base.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

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

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `ours` and `theirs` in turn, `runs` times (the side that goes first alternates), after `before`; their medians. */
export function inTurns(runs, before, ours, theirs) {
  const o = [];
  const t = [];
  for (let i = 0; i < runs; i++) {
    before?.(i);
    if (i % 2 === 0) {
      o.push(ours(i));
      t.push(theirs(i));
    } else {
      t.push(theirs(i));
      o.push(ours(i));
    }
  }
  return [median(o), median(t)];
}

/** One line of a table beside bake: both times, the ratio, the goal. */
export function bakeRow(name, ours, theirs, goal) {
  const r = ours / theirs;
  const ratio = r >= 1 ? `${r.toFixed(2)}x bake (slower)` : `${r.toFixed(2)}x bake, ${(1 / r).toFixed(1)}x faster`;
  console.log(
    `${name.padEnd(44)} ${(ours / 1000).toFixed(2).padStart(6)} s | ${(theirs / 1000).toFixed(2).padStart(6)} s | ${ratio.padEnd(30)} | goal ${goal}`,
  );
}

/**
 * `timed(what, file, args)`: runs a command with `env` in `cwd` and returns its wall time in ms; a
 * failure throws with its stderr. In the bench's project: bake reads a compose file's relative
 * contexts from its working folder.
 */
export function timedIn(env, cwd) {
  return (what, file, args) => {
    const t = performance.now();
    const r = spawnSync(file, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}):\n${r.stderr.slice(-4000)}`);
    return ms;
  };
}
