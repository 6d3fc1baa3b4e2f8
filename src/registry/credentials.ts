import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { errorMessage, RegistryAuthError } from '../errors.js';
import { authKeyOf, DOCKER_HUB, DOCKER_HUB_HOSTS } from '../names/docker-hub.js';

/** Registry credentials in the shape the Engine API's X-Registry-Auth and X-Registry-Config take. */
export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
  /** Where they came from, for `doctor` (never the secret itself). */
  source?: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export interface CredentialSourceOptions {
  env?: NodeJS.ProcessEnv;
  /** Folder of config.json. @default $DOCKER_CONFIG or ~/.docker */
  dockerConfigDir?: string;
  /** Runs `docker-credential-<helper> get`; injectable for tests. */
  runHelper?: (helper: string, serverAddress: string) => Promise<string>;
  /** What to call the HELMET_REGISTRY_USER/PASSWORD pair in `doctor` (e.g. --password-stdin). */
  source?: string;
}

/**
 * Where registry credentials come from, in order: HELMET_REGISTRY_USER/PASSWORD, then the Docker
 * config (`credHelpers[host]`, `credsStore`, `auths[host]`). Credentials are never logged.
 */
export class CredentialSource {
  private readonly env: NodeJS.ProcessEnv;
  private readonly configDir: string;
  private readonly runHelper: (helper: string, serverAddress: string) => Promise<string>;
  private readonly cache = new Map<string, Promise<Credentials | undefined>>();
  private readonly configCache = new Map<string, Promise<Credentials | undefined>>();
  private readonly envSource: string;

  constructor(options: CredentialSourceOptions = {}) {
    this.env = options.env ?? process.env;
    this.configDir = options.dockerConfigDir ?? this.env.DOCKER_CONFIG ?? join(homedir(), '.docker');
    this.runHelper = options.runHelper ?? runCredentialHelper;
    this.envSource = options.source ?? 'HELMET_REGISTRY_USER/HELMET_REGISTRY_PASSWORD';
  }

  get(registry: string): Promise<Credentials | undefined> {
    let found = this.cache.get(registry);
    if (!found) {
      found = this.lookup(registry);
      this.cache.set(registry, found);
    }
    return found;
  }

  /**
   * Credentials for pulling from `registry` during a build. HELMET_REGISTRY_USER/PASSWORD (and
   * --password-stdin) belong to the push target: for another registry only the Docker config is
   * read, so a base image from Docker Hub is never asked for with the push registry's password.
   * Without a push target they apply to every registry, as for lookups.
   */
  forPull(registry: string, pushRegistry: string | undefined): Promise<Credentials | undefined> {
    if (pushRegistry === undefined || registry === pushRegistry) return this.get(registry);
    let found = this.configCache.get(registry);
    if (!found) {
      found = this.fromConfig(registry);
      this.configCache.set(registry, found);
    }
    return found;
  }

  private async lookup(registry: string): Promise<Credentials | undefined> {
    const user = this.env.HELMET_REGISTRY_USER;
    const password = this.env.HELMET_REGISTRY_PASSWORD;
    if (user && password) return { username: user, password, source: this.envSource };
    return this.fromConfig(registry);
  }

  private async fromConfig(registry: string): Promise<Credentials | undefined> {
    // The docker CLI's order: the registry's credential helper, then the credentials store, then `auths`.
    const config = this.readConfig();
    const keys = configKeys(registry);
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => keys.includes(normaliseConfigKey(key)))?.[1];
    if (helper) return this.fromHelper(helper, registry);
    if (config.credsStore) {
      const stored = await this.fromHelper(config.credsStore, registry);
      if (stored) return stored;
    }
    for (const [key, entry] of Object.entries(config.auths ?? {})) {
      if (!keys.includes(normaliseConfigKey(key))) continue;
      const source = `${join(this.configDir, 'config.json')} auths["${key}"]`;
      if (entry.identitytoken) return { identityToken: entry.identitytoken, source };
      if (entry.username && entry.password) return { username: entry.username, password: entry.password, source };
      if (entry.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
      }
    }
    return undefined;
  }

  private async fromHelper(helper: string, registry: string): Promise<Credentials | undefined> {
    const server = authKeyOf(registry);
    let out: string;
    try {
      out = await this.runHelper(helper, server);
    } catch (e) {
      const text = errorMessage(e);
      // Helpers say "credentials not found" when they simply have nothing for this registry.
      if (/credentials not found/i.test(text)) return undefined;
      throw new RegistryAuthError(`credential helper docker-credential-${helper} failed for ${registry}`, {
        hint: `Check that docker-credential-${helper} is installed and on PATH.`,
      });
    }
    let parsed: { Username?: string; Secret?: string };
    try {
      parsed = JSON.parse(out) as { Username?: string; Secret?: string };
    } catch {
      // Never echo the reply: it may hold a secret.
      throw new RegistryAuthError(`credential helper docker-credential-${helper} gave an unreadable answer for ${registry}`, {
        hint: `Check docker-credential-${helper} (run: echo ${registry} | docker-credential-${helper} get).`,
      });
    }
    if (!parsed.Secret) return undefined;
    const source = `docker-credential-${helper}`;
    // "<token>" as the user name marks an identity token (docker CLI convention).
    if (parsed.Username === '<token>') return { identityToken: parsed.Secret, source };
    return { username: parsed.Username, password: parsed.Secret, source };
  }

  private readConfig(): DockerConfig {
    const file = join(this.configDir, 'config.json');
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as DockerConfig;
    } catch (e) {
      throw new RegistryAuthError(`cannot read ${file}: ${errorMessage(e)}`, { hint: 'Fix or remove the Docker config file.' });
    }
  }
}

function configKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return DOCKER_HUB_HOSTS;
  return [registry];
}

/** Config keys may be URLs (`https://host/v1/`); compare by host[:port]. */
function normaliseConfigKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
}

async function runCredentialHelper(helper: string, serverAddress: string): Promise<string> {
  // Loaded here: most runs ask no helper.
  const { execa } = await import('execa');
  const result = await execa(`docker-credential-${helper}`, ['get'], { input: serverAddress, timeout: 30_000 });
  return result.stdout;
}

/**
 * Credentials in the engine's X-Registry-Auth shape. The engine requires the header on push even when
 * the registry needs no login, so "no credentials" is still `{serveraddress}`.
 */
export function engineAuth(registry: string, creds: Credentials | undefined): RegistryAuth {
  if (!creds) return { serveraddress: registry };
  if (creds.identityToken) return { serveraddress: registry, identitytoken: creds.identityToken };
  return { serveraddress: registry, username: creds.username, password: creds.password };
}
