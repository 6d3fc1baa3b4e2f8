#!/usr/bin/env node
// Benchmarks. Each figure is printed beside a baseline measured in the same run, with the ratio.
//   1. Walking + .dockerignore + input digest of a large context vs GNU `tar -c . | sha256sum`.
//   2. A no-op `helmet-build all --push` (everything unchanged) vs `docker build` with a warm cache.
// Needs the local services (make bench starts them) and a compiled lib/ (npm run build).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readBuildContext } from '../lib/context/build-context.js';
import { inputRecord } from '../lib/context/input-digest.js';
import { engineLabel, here, OFFLINE, servicesEnv } from './support.mjs';

const FILES = Number(process.env.BENCH_FILES ?? 20000);
const RUNS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
function time(fn) {
  const out = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    fn();
    out.push(performance.now() - t);
  }
  return median(out);
}
function row(name, ms, baseMs, baseName) {
  console.log(
    `${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ms   ${baseName.padEnd(34)} ${baseMs.toFixed(1).padStart(9)} ms   ratio ${(ms / baseMs).toFixed(2)}`,
  );
}

// 1. Context digest
const ctx = mkdtempSync(join(tmpdir(), 'helmet-bench-ctx-'));
for (let i = 0; i < FILES; i++) {
  const dir = join(ctx, `d${i % 100}`, `e${i % 7}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `f${i}.py`), `# file ${i}\n${'x'.repeat(i % 2048)}\n`);
}
writeFileSync(join(ctx, '.dockerignore'), '**/*.pyc\nd9*/\n!d99/e1\n');
writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
const rssBefore = process.memoryUsage().rss;
const ours = time(() => inputRecord({ context: readBuildContext(ctx, join(ctx, 'Dockerfile')), buildArgs: {} }));
const rssAfter = process.memoryUsage().rss;
const gnu = time(() => execFileSync('bash', ['-c', `tar -C '${ctx}' -cf - . | sha256sum`]));
console.log(`context: ${FILES} files, median of ${RUNS} runs`);
row('walk + .dockerignore + input digest', ours, gnu, 'tar -c | sha256sum (GNU)');
console.log(`rss growth during the digest runs: ${((rssAfter - rssBefore) / 1024 / 1024).toFixed(1)} MiB`);
rmSync(ctx, { recursive: true, force: true });

// 2. No-op run against the registry vs docker build with a warm layer cache
const env = servicesEnv();
console.log(`\nbuilds on ${engineLabel(env)}`);
const proj = mkdtempSync(join(tmpdir(), 'helmet-bench-proj-'));
const N = 3;
writeFileSync(join(proj, 'tiny.Dockerfile'), 'FROM helmet/busybox:latest\nCOPY . /app\n');
for (let i = 0; i < N; i++) {
  const dir = join(proj, 'components', `c${i}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.sh'), `echo ${i}\n`);
  writeFileSync(
    join(dir, 'component.yaml'),
    `name: c${i}\nimplementation:\n  container:\n    command: [sh, /app/main.sh]\nbuild:\n  image: bench-c${i}\n  dockerfile: tiny.Dockerfile\n`,
  );
}
const push = `${env.HELMET_TEST_REGISTRY}/bench`;
const cli = (args) => {
  const r = spawnSync('node', [join(here, 'bin/helmet-build.js'), '-C', proj, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helmet-build ${args.join(' ')} failed:\n${r.stderr}`);
};
cli(['all', '--push', push]); // warm: builds and pushes once
const noop = time(() => cli(['all', '--push', push]));
const dockerBuild = time(() => {
  for (let i = 0; i < N; i++) {
    execFileSync('docker', ['build', '-q', '-t', `bench-docker-c${i}`, '-f', join(proj, 'tiny.Dockerfile'), join(proj, 'components', `c${i}`)], {
      env: { ...env, DOCKER_BUILDKIT: '0' },
      stdio: 'ignore',
    });
  }
});
console.log(`\nunchanged project of ${N} components, median of ${RUNS} runs`);
row('helmet-build all --push (no-op)', noop, dockerBuild, `docker build x${N} (warm cache, no push)`);
for (let i = 0; i < N; i++) spawnSync('docker', ['rmi', '-f', `bench-docker-c${i}`, `${push}/bench-c${i}`], { env, stdio: 'ignore' });
spawnSync('bash', ['-c', `docker images --format '{{.Repository}}:{{.Tag}}' | grep '^${push}/' | xargs -r docker rmi -f`], { env, stdio: 'ignore' });
rmSync(proj, { recursive: true, force: true });

// 3. Cold builds of the four helmet components: BuildKit through helmet-build vs a docker build + push loop.
// One run each: a cold build of four images takes minutes with the classic builder on vfs.
const tag = `${process.pid}`;
const helmet = mkdtempSync(join(tmpdir(), 'helmet-bench-helmet-'));
for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(here, part), join(helmet, part), { recursive: true });
const helmetCli = (args) => {
  const t = performance.now();
  const r = spawnSync('node', [join(here, 'bin/helmet-build.js'), '-C', helmet, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helmet-build ${args.join(' ')} failed:\n${r.stderr}`);
  return performance.now() - t;
};
const coldRepo = `${env.HELMET_TEST_REGISTRY}/bench-cold-${tag}`;
const coldOurs = helmetCli(['all', '--push', coldRepo, '--no-cache', ...OFFLINE]);
const LOOP = [
  ['ingest', 'base', []],
  ['prepare', 'base', []],
  ['train', 'train', ['--build-arg', 'ABSENT_FRAMEWORKS=ultralytics,torch']],
  ['rknn-convert', 'rknn', ['--build-arg', 'ABSENT_FRAMEWORKS=rknn-toolkit2']],
];
const loopRepo = `${env.HELMET_TEST_REGISTRY}/bench-loop-${tag}`;
// The classic builder rejects RUN --mount: the loop builds copies of the Dockerfiles without the cache mount.
for (const name of ['base', 'train', 'rknn']) {
  const file = join(helmet, 'dockerfiles', `${name}.Dockerfile`);
  writeFileSync(join(helmet, 'dockerfiles', `${name}.classic.Dockerfile`), readFileSync(file, 'utf8').replace(/RUN --mount=type=cache,target=\S+/g, 'RUN'));
}
const t0 = performance.now();
for (const [component, dockerfile, args] of LOOP) {
  const ref = `${loopRepo}/${component}:1`;
  execFileSync(
    'docker',
    [
      'build',
      '-q',
      '--no-cache',
      '-t',
      ref,
      '-f',
      join(helmet, 'dockerfiles', `${dockerfile}.classic.Dockerfile`),
      '--build-arg',
      'BASE_IMAGE=helmet/python:3.11',
      ...args,
      join(helmet, 'components', component),
    ],
    { env: { ...env, DOCKER_BUILDKIT: '0' }, stdio: 'ignore' },
  );
  execFileSync('docker', ['push', '-q', ref], { env, stdio: 'ignore' });
}
const coldLoop = performance.now() - t0;
console.log('\ncold build + push of the 4 helmet components from the local Python base (one run each)');
row('helmet-build all --push --no-cache (BuildKit)', coldOurs, coldLoop, 'docker build + push loop (classic)');

// 4. A fresh CI runner after a one-line change: registry layer cache vs none. Local images and the
// build cache are removed before each measured build.
const freshEngine = (repo) => {
  spawnSync('bash', ['-c', `docker images --format '{{.Repository}}:{{.Tag}}' | grep '^${repo}/' | xargs -r docker rmi -f`], { env, stdio: 'ignore' });
  execFileSync('docker', ['builder', 'prune', '-af'], { env, stdio: 'ignore' });
};
const touch = (file, n) => writeFileSync(file, `${readFileSync(file, 'utf8')}\n# bench change ${tag}-${n}\n`);
const trainFile = join(helmet, 'components/train/train_pipeline.py');
const warmRepo = `${env.HELMET_TEST_REGISTRY}/bench-fresh-${tag}`;
helmetCli(['build', 'train', '--push', warmRepo, ...OFFLINE]);
freshEngine(warmRepo);
touch(trainFile, 1);
const withCache = helmetCli(['build', 'train', '--push', warmRepo, ...OFFLINE]);
freshEngine(warmRepo);
touch(trainFile, 2);
const withoutCache = helmetCli(['build', 'train', '--push', warmRepo, '--no-cache', ...OFFLINE]);
console.log('\nfresh engine, one line changed in components/train/train_pipeline.py (one run each; offline, so no pip install)');
row('build train --push (registry layer cache)', withCache, withoutCache, 'the same with --no-cache');

// The same with a slow step standing in for `pip install` (8 s), which is what the cache saves on a real runner.
writeFileSync(
  join(helmet, 'dockerfiles/slow.Dockerfile'),
  `ARG BASE_IMAGE=helmet/python:3.11\nFROM \${BASE_IMAGE}\nRUN sleep 8 && echo ${tag} > /installed\nCOPY . /app\n`,
);
writeFileSync(
  join(helmet, 'components/train/component.yaml'),
  readFileSync(join(helmet, 'components/train/component.yaml'), 'utf8').replace(/dockerfile: .*/, 'dockerfile: dockerfiles/slow.Dockerfile'),
);
helmetCli(['build', 'train', '--push', warmRepo, ...OFFLINE]);
freshEngine(warmRepo);
touch(trainFile, 3);
const slowWith = helmetCli(['build', 'train', '--push', warmRepo, ...OFFLINE]);
freshEngine(warmRepo);
touch(trainFile, 4);
const slowWithout = helmetCli(['build', 'train', '--push', warmRepo, '--no-cache', ...OFFLINE]);
row('  with an 8 s install step: layer cache', slowWith, slowWithout, 'the same with --no-cache');

for (const repo of [coldRepo, loopRepo, warmRepo]) {
  spawnSync('bash', ['-c', `docker images --format '{{.Repository}}:{{.Tag}}' | grep '^${repo}/' | xargs -r docker rmi -f`], { env, stdio: 'ignore' });
}
rmSync(helmet, { recursive: true, force: true });
