/**
 * The input digest names everything that decides an image's content: the context's entries
 * (path, kind, executable bit, content), the Dockerfile, build args, platform, and the input digest
 * of the component it starts from. Chaining on the base's *input* digest (not its image digest)
 * makes the digests of a whole graph known before anything is built. mtimes, owners, walk order and
 * the checkout location are deliberately left out.
 */
import type { BuildContext } from './build-context.js';
import { sha256 } from './hashing.js';

export interface DigestInputs {
  context: BuildContext;
  /** Build args, without the BASE_IMAGE a base component provides. */
  buildArgs: Record<string, string>;
  platform?: string;
  /** Multi-stage target. */
  target?: string;
  /** Input digest of the component this one starts from. */
  baseInputDigest?: string;
  /** Ids of the build secrets and SSH agents the build mounts (never their values). */
  secrets?: string[];
  ssh?: string[];
}

/** What went into an input digest, kept per component so that the next plan can say what changed. */
export interface InputRecord {
  inputDigest: string;
  dockerfile: string;
  args: Record<string, string>;
  platform: string;
  target?: string;
  base?: string;
  /** Ids of the build secrets and SSH agents (no values), when the build mounts any. */
  secrets?: string[];
  ssh?: string[];
  /** Path -> "<kind> <exec> <sha256>". */
  entries: Record<string, string>;
  /** SHA-256 of the `<Dockerfile>.dockerignore` whose patterns apply, when there is one. */
  dockerignore?: string;
}

export function inputRecord(inputs: DigestInputs): InputRecord {
  const args = Object.fromEntries(Object.entries(inputs.buildArgs).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const entries: Record<string, string> = {};
  for (const e of inputs.context.entries) {
    const exec = e.kind === 'file' && (e.mode & 0o111) !== 0 ? 'x' : '-';
    entries[e.path] = `${e.kind} ${exec} ${e.sha256 || '-'}`;
  }
  // One line per input, hashed in one piece (the same bytes as line by line, far fewer calls).
  const lines: string[] = [];
  const line = (s: string) => lines.push(`${s}\n`);
  const dockerfile = sha256(inputs.context.dockerfileContent);
  line('helmet-build input digest v2');
  line(`dockerfile ${dockerfile}`);
  for (const [k, v] of Object.entries(args)) line(`arg ${JSON.stringify(k)}=${JSON.stringify(v)}`);
  line(`platform ${inputs.platform ?? ''}`);
  if (inputs.target) line(`target ${inputs.target}`);
  if (inputs.baseInputDigest) line(`from ${inputs.baseInputDigest}`);
  // The context's own .dockerignore is one of its entries; a Dockerfile's is not.
  const dockerignore = inputs.context.dockerignorePath !== undefined ? sha256(inputs.context.dockerignore ?? '') : undefined;
  if (dockerignore) line(`dockerignore ${dockerignore}`);
  const secrets = [...new Set(inputs.secrets ?? [])].sort();
  const ssh = [...new Set(inputs.ssh ?? [])].sort();
  for (const id of secrets) line(`secret ${JSON.stringify(id)}`);
  for (const id of ssh) line(`ssh ${JSON.stringify(id)}`);
  for (const [path, entry] of Object.entries(entries)) line(`${entry} ${JSON.stringify(path)}`);
  return {
    inputDigest: `sha256:${sha256(lines.join(''))}`,
    dockerfile,
    args,
    platform: inputs.platform ?? '',
    ...(inputs.target ? { target: inputs.target } : {}),
    ...(inputs.baseInputDigest ? { base: inputs.baseInputDigest } : {}),
    ...(secrets.length ? { secrets } : {}),
    ...(ssh.length ? { ssh } : {}),
    entries,
    ...(dockerignore ? { dockerignore } : {}),
  };
}

/** The content-addressed tag for an input digest: `in-` + 16 hex. */
export function inputTag(inputDigest: string): string {
  return `in-${inputDigest.replace(/^sha256:/, '').slice(0, 16)}`;
}

/** What differs between the inputs of the last recorded build and now, in words; empty when nothing does. */
export function describeInputChanges(before: InputRecord, now: InputRecord, names: { dockerfile: string; base?: string }): string[] {
  const changes: string[] = [];
  if (before.dockerfile !== now.dockerfile) changes.push(`Dockerfile ${names.dockerfile} changed`);
  if (before.dockerignore !== now.dockerignore)
    changes.push(`${names.dockerfile}.dockerignore ${before.dockerignore === undefined ? 'added' : now.dockerignore === undefined ? 'removed' : 'changed'}`);
  for (const key of new Set([...Object.keys(before.args), ...Object.keys(now.args)])) {
    if (before.args[key] !== now.args[key]) {
      changes.push(`build arg ${key} ${before.args[key] === undefined ? 'added' : now.args[key] === undefined ? 'removed' : 'changed'}`);
    }
  }
  if (before.platform !== now.platform) changes.push(`platform changed (${before.platform || 'default'} -> ${now.platform || 'default'})`);
  if (before.target !== now.target) changes.push(`target stage changed (${before.target ?? 'last'} -> ${now.target ?? 'last'})`);
  if ((before.secrets ?? []).join(',') !== (now.secrets ?? []).join(',')) changes.push('build secrets changed (ids)');
  if ((before.ssh ?? []).join(',') !== (now.ssh ?? []).join(',')) changes.push('SSH agents changed (ids)');
  if (before.base !== now.base) changes.push(names.base ? `base component ${names.base} changed` : 'base component changed');
  const files: string[] = [];
  for (const path of new Set([...Object.keys(before.entries), ...Object.keys(now.entries)])) {
    const a = before.entries[path];
    const b = now.entries[path];
    if (a !== b) files.push(`${path} (${a === undefined ? 'added' : b === undefined ? 'removed' : 'changed'})`);
  }
  files.sort();
  if (files.length) changes.push(`files: ${files.slice(0, 5).join(', ')}${files.length > 5 ? `, +${files.length - 5} more` : ''}`);
  return changes;
}
