#!/usr/bin/env node
// Fast-path benchmarks: each figure beside a baseline measured in the same run (medians of RUNS),
// with the ratio and the target.
//   P1 no-op `all --push` of the 4 helmet components vs a docker CLI build + push loop, warm cache.
//   P3 input digest of 10,000 small files and one 1 GB file vs find | sort | xargs cat | sha256sum;
//      peak RSS; and again with the stat cache warm.
//   P5 no-op `plan --push` of 50 components of 40 files each, beside node's own start-up.
//   P7 the same with 800 components: what each component past 50 costs.
//   P6 context tar of 100,000 small files vs GNU tar -cf - -T list.
// Needs the local services (make bench starts them) and `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { engineLabel, here, OFFLINE, servicesEnv } from './support.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const BIN = join(here, 'bin/helmet-build.js');
const env = servicesEnv();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timeMs = (fn) => {
  const t = performance.now();
  fn();
  return performance.now() - t;
};
const medianMs = (fn) => median(Array.from({ length: RUNS }, () => timeMs(fn)));
const sh = (cmd) => execFileSync('bash', ['-c', cmd], { env, stdio: ['ignore', 'ignore', 'inherit'] });
function row(name, ms, baseName, baseMs, target) {
  const ratio = ms / baseMs;
  console.log(
    `${name.padEnd(46)} ${ms.toFixed(0).padStart(7)} ms | ${baseName.padEnd(42)} ${baseMs.toFixed(0).padStart(7)} ms | ${ratio >= 1 ? `${ratio.toFixed(2)}x slower` : `${(1 / ratio).toFixed(1)}x faster`} (target: ${target})`,
  );
}
const cli = (root, args) => {
  const r = spawnSync('node', [BIN, '-C', root, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helmet-build ${args.join(' ')} failed:\n${r.stderr}`);
};
/** Wall time and peak RSS (KiB) of a command, from GNU time. */
function measured(cmd) {
  const t = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-c', cmd], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} failed:\n${r.stderr}`);
  return { ms: performance.now() - t, rssKiB: Number(r.stderr.trim().split('\n').pop()) };
}
/** Files written more than 2 s ago are what the stat cache keeps (its racy window): age them. */
function age(root) {
  const old = new Date(Date.now() - 3600_000);
  sh(`find '${root}' -exec touch -h -d '@${Math.floor(old.getTime() / 1000)}' {} +`);
}

console.log(`fast path: ${engineLabel(env)}; ${availableParallelism()} cores, medians of ${RUNS} runs`);
const tag = `${process.pid}`;
const scratch = mkdtempSync(join(tmpdir(), 'helmet-bench-fast-'));
try {
  // P1
  const helmet = join(scratch, 'helmet');
  mkdirSync(helmet);
  for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(here, part), join(helmet, part), { recursive: true });
  const repo = `${env.HELMET_TEST_REGISTRY}/bench-p1-${tag}`;
  cli(helmet, ['all', '--push', repo, ...OFFLINE]);
  cli(helmet, ['all', '--push', repo, ...OFFLINE]); // the stat cache is written on this one
  const noop = medianMs(() => cli(helmet, ['all', '--push', repo, ...OFFLINE]));
  // The docker CLI here has no buildx, so its builder is the classic one, which rejects RUN --mount:
  // the loop builds copies of the Dockerfiles without the cache mount.
  for (const name of ['base', 'train', 'rknn']) {
    const file = join(helmet, 'dockerfiles', `${name}.Dockerfile`);
    writeFileSync(join(helmet, 'dockerfiles', `${name}.classic.Dockerfile`), readFileSync(file, 'utf8').replace(/RUN --mount=type=cache,target=\S+/g, 'RUN'));
  }
  const loop = [
    ['ingest', 'base', ''],
    ['prepare', 'base', ''],
    ['train', 'train', '--build-arg ABSENT_FRAMEWORKS=ultralytics,torch'],
    ['rknn-convert', 'rknn', '--build-arg ABSENT_FRAMEWORKS=rknn-toolkit2'],
  ]
    .map(
      ([c, df, args]) =>
        `docker build -q -t ${repo}-cli/${c}:1 -f ${helmet}/dockerfiles/${df}.classic.Dockerfile --build-arg BASE_IMAGE=helmet/python:3.11 ${args} ${helmet}/components/${c} >/dev/null && docker push -q ${repo}-cli/${c}:1 >/dev/null`,
    )
    .join(' && ');
  const cliLoop = `DOCKER_BUILDKIT=0 bash -c '${loop.replace(/'/g, "'\\''")}'`;
  sh(cliLoop); // warm its cache and the registry
  const dockerLoop = medianMs(() => sh(cliLoop));
  console.log('\nP1 no-op run of the 4 unchanged helmet components');
  row('helmet-build all --push (no-op)', noop, 'docker build + push x4 (classic, warm cache)', dockerLoop, '>= 20x faster');
  row(
    'the same beside node -e 0',
    noop,
    'node -e 0',
    medianMs(() => sh('node -e 0')),
    '<= 2x node -e 0',
  );
  // By image ID: the loop's repeated builds leave earlier images behind under the pushed name, untagged.
  sh(
    `docker images --no-trunc --format '{{.Repository}} {{.ID}}' | grep '^${repo}' | cut -d' ' -f2 | sort -u | xargs -r docker rmi -f >/dev/null 2>&1 || true`,
  );

  // P3
  const big = join(scratch, 'p3');
  for (let i = 0; i < 10_000; i++) {
    const dir = join(big, `d${i % 100}`);
    if (i < 100) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.txt`), `small file ${i}\n${'x'.repeat(i % 1500)}\n`);
  }
  sh(`head -c 1073741824 /dev/urandom > '${big}/weights.bin'`);
  writeFileSync(join(big, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  age(big);
  const digestScript = (withCache) =>
    `node --input-type=module -e "import {readBuildContext} from '${here}lib/context/build-context.js'; import {inputRecord} from '${here}lib/context/input-digest.js'; import {StatCache} from '${here}lib/context/stat-cache.js'; const c = ${withCache} ? StatCache.open('${big}') : undefined; inputRecord({context: readBuildContext('${big}', '${big}/Dockerfile', {hasher: c, exclude: ['${big}/.helmet-cache']}), buildArgs: {}}); c?.save();"`;
  const cold = Array.from({ length: RUNS }, () => measured(digestScript(false)));
  const gnu = medianMs(() => sh(`cd '${big}' && find . -type f -not -path './.helmet-cache/*' | sort | xargs cat | sha256sum >/dev/null`));
  measured(digestScript(true)); // fills the cache
  const warm = Array.from({ length: RUNS }, () => measured(digestScript(true)));
  const startup = medianMs(() => sh(`node --input-type=module -e "import '${here}lib/context/build-context.js'"`));
  console.log('\nP3 input digest: 10,000 small files and one 1 GB file (page cache warm)');
  row('walk + .dockerignore + digest (no stat cache)', median(cold.map((r) => r.ms)), 'find | sort | xargs cat | sha256sum', gnu, '>= 1x the throughput');
  console.log(`${''.padEnd(46)} peak RSS ${(Math.max(...cold.map((r) => r.rssKiB)) / 1024).toFixed(0)} MiB (target < 150 MiB)`);
  row('the same, stat cache warm', median(warm.map((r) => r.ms)), 'node start-up + module load alone', startup, 'digest < 50 ms over start-up');
  rmSync(big, { recursive: true, force: true });

  // P5 and P7
  /** A project of `count` components of 40 files each, its files older than the caches' racy window. */
  const manyComponents = (name, count) => {
    const root = join(scratch, name);
    mkdirSync(join(root, 'dockerfiles'), { recursive: true });
    writeFileSync(join(root, 'dockerfiles/tiny.Dockerfile'), 'FROM helmet/busybox:latest\nCOPY . /app\n');
    for (let c = 0; c < count; c++) {
      const dir = join(root, 'components', `c${c}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, 'component.yaml'),
        `name: c${c}\nimplementation:\n  container:\n    command: [sh, /app/f0.sh]\nbuild: {image: bench-${name}-c${c}, dockerfile: dockerfiles/tiny.Dockerfile}\n`,
      );
      for (let f = 0; f < 39; f++) writeFileSync(join(dir, `f${f}.sh`), `echo ${c} ${f}\n`);
    }
    age(root);
    return root;
  };
  const fifty = manyComponents('p5', 50);
  const p5repo = `${env.HELMET_TEST_REGISTRY}/bench-p5-${tag}`;
  // The caches keep nothing changed within 2 s (ctime included, which age() cannot set back).
  await new Promise((r) => setTimeout(r, 2100));
  cli(fifty, ['plan', '--push', p5repo]);
  const plans = Array.from({ length: RUNS }, () => measured(`node '${BIN}' -C '${fifty}' plan --push ${p5repo} >/dev/null 2>&1`));
  const nodeAlone = medianMs(() => sh('node -e 0'));
  console.log('\nP5 50 components of 40 files, plan --push (nothing in the registry: 50 lookups)');
  row('helmet-build plan --push', median(plans.map((r) => r.ms)), 'node -e 0', nodeAlone, '<= 4x node -e 0');
  console.log(`${''.padEnd(46)} peak RSS ${(Math.max(...plans.map((r) => r.rssKiB)) / 1024).toFixed(0)} MiB (target < 150 MiB)`);

  const eightHundred = manyComponents('p7', 800);
  const p7repo = `${env.HELMET_TEST_REGISTRY}/bench-p7-${tag}`;
  await new Promise((r) => setTimeout(r, 2100));
  cli(eightHundred, ['plan', '--push', p7repo]);
  const bigPlans = Array.from({ length: RUNS }, () => measured(`node '${BIN}' -C '${eightHundred}' plan --push ${p7repo} >/dev/null 2>&1`));
  const manyMs = median(bigPlans.map((r) => r.ms));
  const perComponent = (manyMs - median(plans.map((r) => r.ms))) / 750;
  console.log('\nP7 800 components of 40 files, plan --push (800 lookups), beside P5');
  console.log(
    `${'helmet-build plan --push, 800 components'.padEnd(46)} ${manyMs.toFixed(0).padStart(7)} ms | each component past 50: ${perComponent.toFixed(2)} ms (target: <= 1.5 ms); peak RSS ${(Math.max(...bigPlans.map((r) => r.rssKiB)) / 1024).toFixed(0)} MiB`,
  );

  // P6
  const many = join(scratch, 'p6');
  for (let i = 0; i < 100_000; i++) {
    const dir = join(many, `d${i % 1000}`);
    if (i < 1000) mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}`), `${i}\n`);
  }
  writeFileSync(join(many, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
  sh(`cd '${many}' && find . -mindepth 1 | sed 's|^./||' | sort > '${scratch}/p6.list'`);
  const tarScript = `node --input-type=module -e "import {readBuildContext} from '${here}lib/context/build-context.js'; import {createContextTar} from '${here}lib/context/context-tar.js'; const ctx = readBuildContext('${many}', '${many}/Dockerfile'); const t0 = performance.now(); let n = 0; const t = createContextTar(ctx); t.stream.on('data', (d) => (n += d.length)); t.stream.on('end', () => console.log(performance.now() - t0));"`;
  const ours = median(Array.from({ length: RUNS }, () => Number(execFileSync('bash', ['-c', tarScript], { env, encoding: 'utf8' }).trim().split('\n').pop())));
  const gnuTar = medianMs(() => sh(`cd '${many}' && tar -cf - -T '${scratch}/p6.list' | cat >/dev/null`));
  console.log('\nP6 context tar of 100,000 small files (the walk and digest before it not counted)');
  row('helmet-build context tar (digest re-checked)', ours, 'tar -cf - -T list | cat (GNU)', gnuTar, '<= 1.5x');
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
