#!/usr/bin/env node
// The speed guard `make test` runs: the fast-path cases beside `node -e 0`, measured in turn in one
// run (medians), failing when a ratio passes twice its goal, so that a regression of the size of a
// secure context made per socket (3x on the no-op) cannot land unseen, while a noisy machine does
// not fail it. Every figure is printed, pass or fail.
//   no-op    `all --push` of the 4 helmet components, nothing changed       goal <= 2x node -e 0
//   plan-50  `plan --push` of 50 components of 40 files (50 lookups, none   goal <= 4x node -e 0
//            found)
// Needs the local services (make starts them) and `npm run build`. GUARD_RUNS sets the rounds.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { engineLabel, here, OFFLINE, servicesEnv } from './support.mjs';

const ROUNDS = Number(process.env.GUARD_RUNS ?? 9);
const BIN = join(here, 'bin/helmet-build.js');
const env = { ...servicesEnv(), HELMET_PLAIN: '1' };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Wall time of a command in ms; it must succeed. */
function timed(args) {
  const t = performance.now();
  const r = spawnSync('node', args, { env, encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr.slice(-1500)}`);
  return ms;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const scratch = mkdtempSync(join(tmpdir(), 'helmet-guard-'));
const tag = `${process.pid}`;
const noopRepo = `${env.HELMET_TEST_REGISTRY}/guard-noop-${tag}`;
try {
  const helmet = join(scratch, 'helmet');
  mkdirSync(helmet);
  for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(here, part), join(helmet, part), { recursive: true });
  const fifty = join(scratch, 'fifty');
  mkdirSync(join(fifty, 'dockerfiles'), { recursive: true });
  writeFileSync(join(fifty, 'dockerfiles/tiny.Dockerfile'), 'FROM helmet/busybox:latest\nCOPY . /app\n');
  for (let c = 0; c < 50; c++) {
    const dir = join(fifty, 'components', `c${c}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'component.yaml'),
      `name: c${c}\nimplementation:\n  container:\n    command: [sh, /app/f0.sh]\nbuild: {image: guard-c${c}, dockerfile: dockerfiles/tiny.Dockerfile}\n`,
    );
    for (let f = 0; f < 39; f++) writeFileSync(join(dir, `f${f}.sh`), `echo ${c} ${f}\n`);
  }
  const noop = [BIN, '-C', helmet, 'all', '--push', noopRepo, ...OFFLINE];
  const plan = [BIN, '-C', fifty, 'plan', '--push', `${env.HELMET_TEST_REGISTRY}/guard-plan-${tag}`];
  console.log(`speed guard: ${engineLabel(env)}; ${availableParallelism()} cores, load ${loadavg()[0].toFixed(2)}; medians of ${ROUNDS}, in turn`);
  timed(noop); // builds and pushes the 4 images
  // Files younger than the caches' racy window are not cached: the warm-up runs come after it.
  await sleep(2100);
  timed(noop);
  timed(plan);
  const figures = { noop: [], plan: [], node: [] };
  for (let i = 0; i < ROUNDS; i++) {
    figures.node.push(timed(['-e', '0']));
    figures.noop.push(timed(noop));
    figures.plan.push(timed(plan));
  }
  const node = median(figures.node);
  const cases = [
    { name: 'no-op all --push, 4 helmet components', ms: median(figures.noop), goal: 2 },
    { name: 'plan --push, 50 components x 40 files', ms: median(figures.plan), goal: 4 },
  ];
  console.log(`${'node -e 0'.padEnd(40)} ${node.toFixed(0).padStart(5)} ms`);
  let failed = 0;
  for (const c of cases) {
    const ratio = c.ms / node;
    const verdict = ratio > 2 * c.goal ? 'FAIL' : ratio > c.goal ? 'over the goal' : 'ok';
    if (verdict === 'FAIL') failed++;
    console.log(
      `${c.name.padEnd(40)} ${c.ms.toFixed(0).padStart(5)} ms  ${ratio.toFixed(2)}x node -e 0  (goal <= ${c.goal}x, fails past ${2 * c.goal}x): ${verdict}`,
    );
  }
  console.log(`every run (ms): node ${figures.node.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`                no-op ${figures.noop.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(`                plan-50 ${figures.plan.map((x) => x.toFixed(0)).join(' ')}`);
  if (failed) {
    console.log(`speed guard: ${failed} case(s) past twice the goal; profile with node --cpu-prof bin/helmet-build.js …`);
    process.exitCode = 1;
  } else console.log('speed guard: passed');
} finally {
  // The 4 images the first run built, on the engine (the registry keeps its copies).
  const ids = execFileSync('docker', ['images', '-q', '--filter', `reference=${noopRepo}/*`], { env, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  if (ids.length) spawnSync('docker', ['rmi', '-f', ...new Set(ids)], { env, stdio: 'ignore' });
  rmSync(scratch, { recursive: true, force: true });
}
