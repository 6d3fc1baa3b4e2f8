/**
 * How helmet-build reaches a registry, read from where the docker CLI and dockerd read it:
 *   - TLS: the system trust store (and NODE_EXTRA_CA_CERTS) plus the CAs (`*.crt`) and client
 *     certificates (`*.cert` + `*.key`) in the registry's `certs.d/<host[:port]>/` folders:
 *     `$DOCKER_CONFIG/certs.d`, `~/.docker/certs.d`, `/etc/docker/certs.d`;
 *   - plain HTTP only where the engine allows it: a registry the engine's RegistryConfig marks
 *     insecure (IndexConfigs, or an address in InsecureRegistryCIDRs — loopback by default) is tried
 *     over HTTPS first and spoken to over HTTP when it does not speak TLS, as dockerd does;
 *     HELMET_INSECURE_REGISTRIES lists registries spoken to over plain HTTP at once.
 * A certificate that fails verification is never skipped, insecure registry or not.
 */

import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { apiHostOf } from '../names/docker-hub.js';
import { extraCasOfEnv, type TlsTrust } from '../tls/tls-trust.js';

/** What the engine says of registries (`GET /info` → RegistryConfig). */
export interface EngineRegistryConfig {
  insecureCidrs: string[];
  /** Registries the engine has settings for, by `host[:port]`: whether it checks their TLS. */
  secure: Record<string, boolean>;
}

/** The TLS material for one registry: the system roots and NODE_EXTRA_CA_CERTS, then `extraCas` (its own CA files). */
export interface RegistryTls extends TlsTrust {
  /** Files read, for messages and `doctor`. */
  files: string[];
}

/** Where a registry is reached, and why so. */
export interface RegistryRoute {
  /** `https`: verified TLS; `https-then-http`: TLS first, plain HTTP when the registry does not speak TLS; `http`: plain HTTP. */
  transport: 'https' | 'https-then-http' | 'http';
  reason: string;
  tls: RegistryTls;
}

export interface RegistryEndpointsOptions {
  env?: NodeJS.ProcessEnv;
  /** The engine's registry settings; undefined when no engine answers (then loopback alone is insecure). */
  engineConfig?: () => Promise<EngineRegistryConfig | undefined>;
  /** @default the `certs.d` folders of DOCKER_CONFIG, ~/.docker and /etc/docker */
  certsDirs?: string[];
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/;

export class RegistryEndpoints {
  private readonly env: NodeJS.ProcessEnv;
  private readonly routes = new Map<string, Promise<RegistryRoute>>();
  private engineConfig?: Promise<EngineRegistryConfig | undefined>;

  constructor(private readonly options: RegistryEndpointsOptions = {}) {
    this.env = options.env ?? process.env;
  }

  /** The route to `registry` (host[:port]), decided once per run. */
  route(registry: string): Promise<RegistryRoute> {
    let route = this.routes.get(registry);
    if (!route) {
      route = this.decide(registry);
      this.routes.set(registry, route);
    }
    return route;
  }

  /** The folders a registry's certificates go in, in the order they are read. */
  certsDirs(registry: string): string[] {
    return this.certsRoots().map((root) => join(root, registry.replace(/^\[|\]$/g, '')));
  }

  private certsRoots(): string[] {
    if (this.options.certsDirs) return this.options.certsDirs;
    const dockerConfig = this.env.DOCKER_CONFIG?.trim();
    return [...(dockerConfig ? [join(dockerConfig, 'certs.d')] : []), join(homedir(), '.docker', 'certs.d'), '/etc/docker/certs.d'];
  }

  private async decide(registry: string): Promise<RegistryRoute> {
    const tls = this.tlsFor(registry);
    const listed = (this.env.HELMET_INSECURE_REGISTRIES ?? '')
      .split(',')
      .map((h) => h.trim())
      .filter(Boolean);
    if (listed.includes(registry)) return { transport: 'http', reason: 'listed in HELMET_INSECURE_REGISTRIES', tls };
    const insecure = await this.insecureByEngine(registry);
    if (insecure) return { transport: 'https-then-http', reason: insecure, tls };
    return { transport: 'https', reason: tls.files.length ? `TLS, trusting ${tls.files.join(', ')}` : 'TLS, trusting the system CAs', tls };
  }

  /** Why the engine lets this registry go without TLS, or undefined when it does not. */
  private async insecureByEngine(registry: string): Promise<string | undefined> {
    // Loopback is insecure for every engine by default: no need to ask one.
    if (LOOPBACK.test(registry)) return 'on loopback, which the engine lets go without TLS too';
    this.engineConfig ??= (this.options.engineConfig?.() ?? Promise.resolve(undefined)).catch(() => undefined);
    const config = await this.engineConfig;
    const explicit = config?.secure[registry];
    if (explicit === false) return "in the engine's insecure-registries";
    if (explicit === true) return undefined;
    if (!config?.insecureCidrs.length) return undefined;
    const host = hostOf(registry);
    const blocks = new BlockList();
    for (const cidr of config.insecureCidrs) {
      const [net, bits] = cidr.split('/');
      if (net && bits && isIP(net)) blocks.addSubnet(net, Number(bits), isIP(net) === 6 ? 'ipv6' : 'ipv4');
    }
    const addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true }).catch(() => []);
    const inside = addresses.find((a) => blocks.check(a.address, a.family === 6 ? 'ipv6' : 'ipv4'));
    return inside ? `resolves to ${inside.address}, inside the engine's insecure ${config.insecureCidrs.join(', ')}` : undefined;
  }

  private tlsFor(registry: string): RegistryTls {
    const files: string[] = [];
    const cas: string[] = [];
    let cert: string | undefined;
    let key: string | undefined;
    for (const dir of this.certsDirs(registry)) {
      if (!existsSync(dir)) continue;
      const names = readdirSync(dir).sort();
      for (const name of names) {
        if (name.endsWith('.crt')) {
          cas.push(readFileSync(join(dir, name), 'utf8'));
          files.push(join(dir, name));
        } else if (name.endsWith('.cert') && cert === undefined) {
          const keyName = `${name.slice(0, -'.cert'.length)}.key`;
          // As the docker CLI: a client certificate without its key is not used.
          if (!names.includes(keyName)) continue;
          cert = readFileSync(join(dir, name), 'utf8');
          key = readFileSync(join(dir, keyName), 'utf8');
          files.push(join(dir, name), join(dir, keyName));
        }
      }
    }
    return { extraCas: [...extraCasOfEnv(this.env), ...cas], ...(cert && key ? { cert, key } : {}), files };
  }
}

/** The host of `host[:port]` (brackets of an IPv6 address dropped). */
function hostOf(registry: string): string {
  const v6 = /^\[([^\]]+)\]/.exec(registry);
  if (v6) return v6[1]!;
  return registry.replace(/:\d+$/, '');
}

/** The base URL of the registry API for a transport (docker.io is served at registry-1.docker.io). */
export function registryUrl(registry: string, transport: 'https' | 'http'): string {
  return `${transport}://${apiHostOf(registry)}`;
}
