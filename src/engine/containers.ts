/**
 * Running one container to its end through the Engine API: created with the request's mounts,
 * network and GPUs, its stdout and stderr streamed line by line, killed on abort, always removed.
 */
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { nodeReadline } from '../node-modules.js';
import type { RunRequest } from './engine-client.js';

/** Runs `req` and returns the container's exit code. `create` makes the container (through the engine's call wrapper). */
export async function runToEnd(
  docker: Docker,
  create: (options: Docker.ContainerCreateOptions) => Promise<Docker.Container>,
  req: RunRequest,
): Promise<number> {
  const container = await create({
    Image: req.image,
    Entrypoint: req.entrypoint,
    Cmd: req.cmd,
    Env: Object.entries(req.env ?? {}).map(([k, v]) => `${k}=${v}`),
    Labels: req.labels,
    HostConfig: {
      NetworkMode: req.network,
      Mounts: [
        ...Object.entries(req.volumes ?? {}).map(([name, target]) => ({ Type: 'volume' as const, Source: name, Target: target })),
        ...Object.entries(req.binds ?? {}).map(([host, target]) => ({ Type: 'bind' as const, Source: host, Target: target })),
      ],
      DeviceRequests: req.gpus ? [{ Driver: 'nvidia', Count: req.gpus, Capabilities: [['gpu']] }] : undefined,
    },
  });
  const onAbort = () => void container.kill().catch(() => undefined);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const out = lineReader((line) => req.onLog?.(line, 'stdout'));
    const err = lineReader((line) => req.onLog?.(line, 'stderr'));
    docker.modem.demuxStream(stream, out.pass, err.pass);
    stream.on('end', () => {
      out.pass.end();
      err.pass.end();
    });
    req.signal?.addEventListener('abort', onAbort, { once: true });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    // Let the last log lines through before reporting the exit.
    await Promise.race([Promise.all([out.done, err.done]), new Promise((r) => setTimeout(r, 2000))]);
    return StatusCode;
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    await container.remove({ force: true }).catch(() => undefined);
  }
}

function lineReader(onLine: (line: string) => void): { pass: PassThrough; done: Promise<void> } {
  const pass = new PassThrough();
  const done = new Promise<void>((resolve) => {
    const rl = nodeReadline().createInterface({ input: pass, crlfDelay: Infinity });
    rl.on('line', onLine);
    rl.on('close', resolve);
  });
  return { pass, done };
}
