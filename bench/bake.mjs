#!/usr/bin/env node
// helmet-build beside `docker buildx bake` (the docker driver) on Docker 26.1, in one run, medians of
// RUNS with the two sides taking turns:
//   cold      every image built again (--no-cache on both) and pushed to repositories new to the registry
//   no-op     nothing changed since the last run
//   one file  one line added to one file of one of the 4 components
//   fresh     a one-line change on an engine whose images (except the Python base) and build cache
//             are gone: helmet-build takes layers from its `buildcache` tags, bake from the
//             `buildcache` tags it pushes with inline cache metadata (cache_from / cache_to)
// The same 4 helmet components, Dockerfiles, build args and registry on both sides; every RUN step on
// the `none` network (the engine has no bridge; bake takes the network only from a compose file).
// bake writes its own compose file into the bench's project. Needs the local services (make bench
// starts them) and `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineLabel, here, inTurns, bakeRow as row, servicesEnv, timedIn } from './support.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const env = servicesEnv();
if (!env.HELMET_MODERN_DOCKER_HOST || !env.HELMET_MODERN_DOCKER_CLI) {
  console.log('helmet-build beside docker buildx bake: skipped (Docker 26.1 of scripts/services.sh is not running; HELMET_SKIP_MODERN_ENGINE set?)');
  process.exit(0);
}
const modern = { ...env, DOCKER_HOST: env.HELMET_MODERN_DOCKER_HOST, DOCKER_CONFIG: env.HELMET_MODERN_DOCKER_CONFIG, HELMET_PLAIN: '1' };
const DOCKER = env.HELMET_MODERN_DOCKER_CLI;
const BIN = join(here, 'bin/helmet-build.js');
const registry = env.HELMET_TEST_REGISTRY;
const tag = `${process.pid}`;
const prefix = `${registry}/bench-bake-${tag}`;

const docker = (...args) => execFileSync(DOCKER, args, { env: modern, encoding: 'utf8' });
const quietly = (...args) => spawnSync(DOCKER, args, { env: modern, stdio: 'ignore' });

const COMPONENTS = [
  { name: 'ingest', image: 'helmet-ingest', dockerfile: 'base', args: {} },
  { name: 'prepare', image: 'helmet-prepare', dockerfile: 'base', args: {} },
  { name: 'train', image: 'helmet-train', dockerfile: 'train', args: { ABSENT_FRAMEWORKS: 'ultralytics,torch' } },
  { name: 'rknn-convert', image: 'helmet-rknn-convert', dockerfile: 'rknn', args: { ABSENT_FRAMEWORKS: 'rknn-toolkit2' } },
];
const BASE = 'helmet/python:3.11';
// helmet-build's form of the same build args.
const helmetArgs = ['--build-arg', `BASE_IMAGE=${BASE}`, '--build-network', 'none'];
for (const c of COMPONENTS) for (const [k, v] of Object.entries(c.args)) helmetArgs.push('--build-arg', `${c.name}:${k}=${v}`);

/** A compose file bake reads: the components' contexts, Dockerfiles, build args and push tags. */
function composeFile(repo, { layerCache }) {
  const lines = ['services:'];
  for (const c of COMPONENTS) {
    const ref = `${repo}/${c.image}`;
    lines.push(
      `  ${c.name}:`,
      `    image: ${ref}:bake`,
      '    build:',
      `      context: components/${c.name}`,
      `      dockerfile: ../../dockerfiles/${c.dockerfile}.Dockerfile`,
      '      network: none',
      `      labels: {io.helmet.bench: "${tag}"}`,
      '      args:',
      `        BASE_IMAGE: ${BASE}`,
      ...Object.entries(c.args).map(([k, v]) => `        ${k}: "${v}"`),
    );
    if (layerCache) {
      lines.push(`      tags: ["${ref}:buildcache"]`, `      cache_from: ["type=registry,ref=${ref}:buildcache"]`, '      cache_to: ["type=inline"]');
    }
  }
  return `${lines.join('\n')}\n`;
}

const project = mkdtempSync(join(tmpdir(), 'helmet-bench-bake-'));
const timed = timedIn(modern, project);
const existingImages = new Set(docker('images', '-aq', '--no-trunc').split('\n').filter(Boolean));
/** Images of this bench on Docker 26.1: tagged under its prefix, or left untagged by a later build of the same name. */
function benchImages() {
  const tagged = docker('images', '--no-trunc', '--format', '{{.Repository}} {{.ID}}')
    .split('\n')
    .filter((l) => l.startsWith(`${prefix}/`))
    .map((l) => l.split(' ')[1])
    // the base, tagged under the prefix for its push, is no image of the bench
    .filter((id) => !existingImages.has(id));
  const untagged = [
    ...docker('images', '-aq', '--no-trunc', '--filter', 'dangling=true', '--filter', `label=io.helmet.bench=${tag}`).split('\n'),
    ...docker('images', '-aq', '--no-trunc', '--filter', 'dangling=true', '--filter', 'label=io.helmet.component').split('\n'),
  ].filter((id) => id && !existingImages.has(id));
  return [...new Set([...tagged, ...untagged])];
}
function removeBenchImages() {
  const ids = benchImages();
  if (ids.length > 0) quietly('rmi', '-f', ...ids);
}
/** A fresh engine: no image of the bench, no build cache; the Python base stays (as a runner's pre-pulled base). */
function freshEngine() {
  removeBenchImages();
  docker('builder', 'prune', '-af');
}

let changes = 0;
const change = (component, file) => appendFileSync(join(project, 'components', component, file), `# bench change ${++changes}\n`);

try {
  for (const part of ['components', 'dockerfiles', 'pipeline.yaml']) cpSync(join(here, part), join(project, part), { recursive: true });
  const helmet = (repo, ...args) => timed(`helmet-build ${args.join(' ')}`, 'node', [BIN, '-C', project, 'all', '--push', repo, ...helmetArgs, ...args]);
  const bake = (repo, { layerCache = false, noCache = false } = {}) => {
    const file = join(project, `bake-${layerCache ? 'cache' : 'plain'}.compose.yaml`);
    writeFileSync(file, composeFile(repo, { layerCache }));
    return timed('docker buildx bake', DOCKER, ['buildx', 'bake', '-f', file, '--push', '--progress', 'plain', ...(noCache ? ['--no-cache'] : [])]);
  };
  const turns = (before, ours, theirs) => inTurns(RUNS, before, ours, theirs);

  console.log(
    `helmet-build beside docker buildx bake: ${engineLabel(modern, DOCKER)}; buildx ${docker('buildx', 'version').split(' ')[1]}, docker driver; ` +
      `${availableParallelism()} cores, medians of ${RUNS}, the sides in turn`,
  );
  console.log(`the 4 helmet components from ${BASE}, pushed to ${registry} (loopback)`);
  // The base's layers in the registry first, so neither side's first push uploads them for the other.
  docker('tag', BASE, `${prefix}/base:1`);
  docker('push', '-q', `${prefix}/base:1`);
  console.log(`\n${'what'.padEnd(44)} ${'helmet'.padStart(8)} | ${'bake'.padStart(8)} | ratio`);

  // cold: repositories new to the registry on every run, nothing from any cache
  const [coldOurs, coldBake] = turns(
    null,
    (i) => helmet(`${prefix}/cold-helmet-${i}`, '--no-cache'),
    (i) => bake(`${prefix}/cold-bake-${i}`, { noCache: true }),
  );
  row('cold, --no-cache, 4 images built and pushed', coldOurs, coldBake, '<= 1.0x');

  const ours = `${prefix}/helmet`;
  const theirs = `${prefix}/bake`;
  helmet(ours);
  helmet(ours); // the stat cache is written on this one
  bake(theirs);
  const [noopOurs, noopBake] = turns(
    null,
    () => helmet(ours),
    () => bake(theirs),
  );
  row('no-op, nothing changed', noopOurs, noopBake, '>= 3x faster');

  const [oneOurs, oneBake] = turns(
    () => change('prepare', 'prepare.py'),
    () => helmet(ours),
    () => bake(theirs),
  );
  row('one line changed in prepare.py (1 of 4)', oneOurs, oneBake, '<= 0.8x');

  // fresh engine: both sides' layer caches in the registry, up to date, before each run
  helmet(ours);
  bake(theirs, { layerCache: true });
  const [freshOurs, freshBake] = turns(
    () => change('train', 'train_pipeline.py'),
    () => {
      freshEngine();
      return helmet(ours);
    },
    () => {
      freshEngine();
      return bake(theirs, { layerCache: true });
    },
  );
  row('fresh engine, one line changed in train', freshOurs, freshBake, '(none)');
  console.log('(fresh engine: images and build cache removed before each run, the Python base kept; each side fetches its layer cache from the registry)');
} finally {
  quietly('rmi', `${prefix}/base:1`);
  removeBenchImages();
  quietly('builder', 'prune', '-af');
  rmSync(project, { recursive: true, force: true });
}
