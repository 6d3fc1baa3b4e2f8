#!/usr/bin/env node
// Two platforms (linux/amd64 and linux/arm64, the latter under QEMU) beside `docker buildx bake` with
// the same two platforms, on Docker 26.1 with the containerd image store (where bake's docker driver
// builds several platforms), both pushing to the same registry; medians of RUNS, the sides in turn:
//   cold      every image built again (--no-cache on both) and pushed to repositories new to the registry
//   one file  one line added to one component's script
// Three busybox components (there is no arm64 Python base offline): each COPYs the busybox of its
// platform and a script, and RUNs a step, so each platform costs a real build. Needs the local services
// with --containerd (make bench starts them) and `npm run build`.
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bakeRow, engineLabel, here, inTurns, servicesEnv, timedIn } from './support.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const env = servicesEnv();
if (!env.HELMET_CONTAINERD_DOCKER_HOST || !env.HELMET_MODERN_DOCKER_CLI || !env.HELMET_TEST_ARM64_BUSYBOX) {
  console.log('two platforms beside docker buildx bake: skipped (needs scripts/services.sh up --containerd, with QEMU and the arm64 busybox)');
  process.exit(0);
}
const engine = { ...env, DOCKER_HOST: env.HELMET_CONTAINERD_DOCKER_HOST, DOCKER_CONFIG: env.HELMET_MODERN_DOCKER_CONFIG, HELMET_PLAIN: '1' };
const DOCKER = env.HELMET_MODERN_DOCKER_CLI;
const BIN = join(here, 'bin/helmet-build.js');
const prefix = `${env.HELMET_TEST_REGISTRY}/bench-platforms-${process.pid}`;
const PLATFORMS = ['linux/amd64', 'linux/arm64'];
const COMPONENTS = ['one', 'two', 'three'];
const DOCKERFILE = [
  'FROM scratch',
  'ARG TARGETARCH',
  'COPY busybox-${TARGETARCH} /bin/busybox',
  'COPY main.sh /app/main.sh',
  'RUN ["/bin/busybox", "sh", "-c", "/bin/busybox uname -m > /arch && /bin/busybox sh /app/main.sh > /out"]',
  '',
].join('\n');

const project = mkdtempSync(join(tmpdir(), 'helmet-bench-platforms-'));
const timed = timedIn(engine, project);
writeFileSync(join(project, 'helmet-build.yaml'), `platforms: [${PLATFORMS.join(', ')}]\n`);
for (const name of COMPONENTS) {
  const dir = join(project, 'components', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, 'main.sh'), `echo ${name}\n`);
  copyFileSync('/bin/busybox', join(dir, 'busybox-amd64'));
  copyFileSync(env.HELMET_TEST_ARM64_BUSYBOX, join(dir, 'busybox-arm64'));
  writeFileSync(
    join(dir, 'component.yaml'),
    `name: ${name}\nimplementation:\n  container:\n    command: [/bin/busybox, cat, /out]\nbuild:\n  image: bench-${name}\n  dockerfile: components/${name}/Dockerfile\n`,
  );
}

/** bake's compose file: the same contexts, Dockerfiles and platforms, pushed under `repo`. */
function bake(repo, noCache = false) {
  const lines = ['services:'];
  for (const name of COMPONENTS) {
    lines.push(
      `  ${name}:`,
      `    image: ${repo}/bench-${name}:bake`,
      '    build:',
      `      context: components/${name}`,
      '      network: none',
      `      platforms: [${PLATFORMS.join(', ')}]`,
      `      labels: {io.helmet.bench: "${process.pid}"}`,
    );
  }
  const file = join(project, 'bake.compose.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return timed('docker buildx bake', DOCKER, ['buildx', 'bake', '-f', file, '--push', '--progress', 'plain', ...(noCache ? ['--no-cache'] : [])]);
}
const helmet = (repo, ...args) => timed('helmet-build all', 'node', [BIN, '-C', project, 'all', '--push', repo, '--build-network', 'none', ...args]);

let changes = 0;
try {
  console.log(
    `two platforms beside docker buildx bake: ${engineLabel(engine, DOCKER)}; ${availableParallelism()} cores, medians of ${RUNS}, the sides in turn`,
  );
  console.log(`3 busybox components for ${PLATFORMS.join(' and ')} (arm64 under QEMU), pushed to ${env.HELMET_TEST_REGISTRY} (loopback)`);
  console.log(`\n${'what'.padEnd(44)} ${'helmet'.padStart(8)} | ${'bake'.padStart(8)} | ratio`);
  const [coldOurs, coldBake] = inTurns(
    RUNS,
    null,
    (i) => helmet(`${prefix}/cold-helmet-${i}`, '--no-cache'),
    (i) => bake(`${prefix}/cold-bake-${i}`, true),
  );
  bakeRow('cold, --no-cache, 3 images x 2 platforms', coldOurs, coldBake, '<= 1.0x');
  helmet(`${prefix}/helmet`);
  bake(`${prefix}/bake`);
  const [oneOurs, oneBake] = inTurns(
    RUNS,
    () => appendFileSync(join(project, 'components', 'two', 'main.sh'), `# bench change ${++changes}\n`),
    () => helmet(`${prefix}/helmet`),
    () => bake(`${prefix}/bake`),
  );
  bakeRow('one line changed in one of 3 (2 platforms)', oneOurs, oneBake, '<= 0.8x');
} finally {
  const images = execFileSync(DOCKER, ['images', '--format', '{{.Repository}}:{{.Tag}}'], { env: engine, encoding: 'utf8' })
    .split('\n')
    .filter((r) => r.startsWith(`${prefix}/`));
  if (images.length) spawnSync(DOCKER, ['rmi', '-f', ...images], { env: engine, stdio: 'ignore' });
  spawnSync(DOCKER, ['builder', 'prune', '-af'], { env: engine, stdio: 'ignore' });
  rmSync(project, { recursive: true, force: true });
}
