#!/usr/bin/env node
// A big-context rebuild: a component whose context holds a 300 MB weights file, built once, then
// rebuilt after a one-line change to another file. With FileSync (the default for BuildKit) the
// engine asks only for the changed file; beside it, the same first build and rebuild with a tar body
// (HELMET_CONTEXT_TRANSFER=tar), which sends the whole context every time. Goal: the FileSync
// rebuild takes at most 0.2x its first build. What a FileSync rebuild still costs is the COPY step
// itself: `COPY . /app` writes the 300 MB file into a new layer again, as docker build does.
// Figures on the engine DOCKER_HOST names.
// Needs the local services (make bench starts them) and `npm run build`.
import { spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { engineLabel, here, servicesEnv } from './support.mjs';

const BIN = join(here, 'bin/helmet-build.js');
const BIG_MB = Number(process.env.BENCH_BIG_MB ?? 300);
const env = servicesEnv();

/** A project whose one component copies its context (the weights file among it) into the image. */
function project(image) {
  const root = mkdtempSync(join(tmpdir(), 'helmet-bench-ctx-'));
  const ctx = join(root, 'components/weights');
  mkdirSync(ctx, { recursive: true });
  mkdirSync(join(root, 'dockerfiles'));
  writeFileSync(join(root, 'dockerfiles/weights.Dockerfile'), 'FROM helmet/busybox:latest\nCOPY . /app\n');
  writeFileSync(
    join(ctx, 'component.yaml'),
    `name: weights\nimplementation:\n  container:\n    command: [sh]\nbuild:\n  image: ${image}\n  dockerfile: dockerfiles/weights.Dockerfile\n`,
  );
  writeFileSync(join(ctx, 'train.py'), 'EPOCHS = 1\n');
  // Incompressible-looking content, written in 1 MiB pieces.
  const fd = openSync(join(ctx, 'weights.bin'), 'w');
  const piece = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < BIG_MB; i++) {
    for (let j = 0; j < piece.length; j += 4) piece.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
    writeSync(fd, piece);
  }
  closeSync(fd);
  return { root, ctx };
}

/** One build: wall time, and the context bytes FileSync reported sending. */
function build(root, transfer) {
  const t = performance.now();
  const r = spawnSync('node', [BIN, '-C', root, 'build', 'weights', '--builder', 'buildkit', '--json'], {
    env: { ...env, HELMET_CONTEXT_TRANSFER: transfer },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`helmet-build build failed (${transfer}):\n${r.stderr}\n${r.stdout.slice(-2000)}`);
  let bytes = 0;
  for (const line of r.stdout.split('\n')) {
    const m = /"line":"context: context sent through FileSync, \d+ of \d+ entries asked for, (\d+) bytes"/.exec(line);
    if (m) bytes += Number(m[1]);
  }
  return { ms, bytes };
}

function removeImages(image) {
  const ids = spawnSync('docker', ['images', '-q', image], { env, encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  if (ids.length) spawnSync('docker', ['rmi', '-f', ...new Set(ids)], { env, stdio: 'ignore' });
}

const mb = (n) => `${(n / 1024 / 1024).toFixed(1)} MB`;
console.log(`context rebuild: ${BIG_MB} MB file in the context, one line changed elsewhere — ${engineLabel(env)}`);
for (const transfer of ['filesync', 'tar']) {
  const image = `bench-ctx-${transfer}-${process.pid}`;
  const { root, ctx } = project(image);
  try {
    const first = build(root, transfer);
    appendFileSync(join(ctx, 'train.py'), 'LR = 0.01\n');
    const again = build(root, transfer);
    const ratio = again.ms / first.ms;
    const sent = transfer === 'filesync' ? ` | context sent: first ${mb(first.bytes)}, rebuild ${again.bytes} bytes` : ' | context sent: whole tar each time';
    console.log(
      `${transfer.padEnd(8)} first build ${first.ms.toFixed(0).padStart(6)} ms | rebuild ${again.ms.toFixed(0).padStart(6)} ms | ${ratio.toFixed(2)}x the first build${transfer === 'filesync' ? ' (goal: <= 0.20x)' : ''}${sent}`,
    );
  } finally {
    removeImages(image);
    rmSync(root, { recursive: true, force: true });
  }
}
