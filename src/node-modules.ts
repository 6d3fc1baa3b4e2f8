/**
 * Node's own modules that only some runs need, loaded on first use: a run loads each module it
 * imports at start, and these cost a no-op run (which needs none of them) several milliseconds each —
 * https and tls (a registry on plain HTTP), readline (container logs), child_process (git, helpers).
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const nodeTls = (): typeof import('node:tls') => load('node:tls');
export const nodeHttps = (): typeof import('node:https') => load('node:https');
export const nodeReadline = (): typeof import('node:readline') => load('node:readline');
export const nodeChildProcess = (): typeof import('node:child_process') => load('node:child_process');
