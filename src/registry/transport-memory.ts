/**
 * Which registries answer in plain HTTP: what a run finds, and what a project keeps of it between
 * runs. A registry the engine lets go without TLS (loopback, insecure-registries) is tried over TLS
 * first, as dockerd does; a run that remembers it answered in plain HTTP speaks HTTP to it at once
 * and spares the failed handshake (and loading Node's TLS), which was a tenth of a no-op run. Only
 * ever consulted for such registries, so the file cannot make a registry that must use TLS go
 * without it; a run forgets an entry the moment the registry stops answering over HTTP.
 */
import { readFileSync } from 'node:fs';
import { cacheFile, writeCacheFile } from '../fs/cache-dir.js';

export interface TransportMemory {
  /** Whether `registry` (host[:port]) answered in plain HTTP when last spoken to. */
  speaksPlainHttp(registry: string): boolean;
  remember(registry: string, plainHttp: boolean): void;
}

/**
 * What a run knows of the registries it may speak plain HTTP to: found so now, or (until the
 * registry's first answer confirms it) only on an earlier run's word.
 */
export class TransportKnowledge {
  private readonly plain = new Set<string>();
  private readonly assumed = new Set<string>();

  constructor(private readonly memory: TransportMemory = forgetfulMemory()) {}

  /** The run's first request to `registry`: it starts from what an earlier run learnt. */
  firstContact(registry: string): void {
    if (!this.memory.speaksPlainHttp(registry)) return;
    this.plain.add(registry);
    this.assumed.add(registry);
  }

  speaksPlainHttp(registry: string): boolean {
    return this.plain.has(registry);
  }

  /** Plain HTTP only on an earlier run's word, not yet answered. */
  assumesPlainHttp(registry: string): boolean {
    return this.assumed.has(registry);
  }

  /** The registry answered a TLS hello in plain HTTP. */
  foundPlainHttp(registry: string): void {
    this.plain.add(registry);
    this.memory.remember(registry, true);
  }

  /** The registry answered over plain HTTP as an earlier run found. */
  confirmed(registry: string): void {
    this.assumed.delete(registry);
  }

  /** What an earlier run found no longer holds: TLS first again. */
  forget(registry: string): void {
    this.plain.delete(registry);
    this.assumed.delete(registry);
    this.memory.remember(registry, false);
  }
}

/** A memory for one run only. */
function forgetfulMemory(): TransportMemory {
  const plain = new Set<string>();
  return {
    speaksPlainHttp: (registry) => plain.has(registry),
    remember: (registry, plainHttp) => void (plainHttp ? plain.add(registry) : plain.delete(registry)),
  };
}

const VERSION = 1;
/** Enough for any project's registries; a test suite's registries on random ports push out the oldest. */
const MAX_REGISTRIES = 64;

const FILE = 'registry-transports.json';

/**
 * The memory of the project at `root`, in its cache folder: read on first use, written (atomically)
 * when it changes. A file that is missing, unreadable or of another version is an empty memory; a
 * failed write costs the next run a handshake, never this run its result.
 */
export function projectTransportMemory(root: string): TransportMemory {
  const path = cacheFile(root, FILE);
  let plain: string[] | undefined;
  const load = (): string[] => {
    if (plain) return plain;
    try {
      const file = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; plainHttp?: unknown };
      plain = file.version === VERSION && Array.isArray(file.plainHttp) ? file.plainHttp.filter((r): r is string => typeof r === 'string') : [];
    } catch {
      plain = [];
    }
    return plain;
  };
  return {
    speaksPlainHttp: (registry) => load().includes(registry),
    remember(registry, plainHttp) {
      const before = load();
      if (before.includes(registry) === plainHttp) return;
      plain = plainHttp ? [...before, registry].slice(-MAX_REGISTRIES) : before.filter((r) => r !== registry);
      try {
        writeCacheFile(root, FILE, `${JSON.stringify({ version: VERSION, plainHttp: plain }, null, 2)}\n`);
      } catch {
        // Only speed is lost.
      }
    },
  };
}
