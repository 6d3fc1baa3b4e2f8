/**
 * What the components a run may build need from the command line: the build secrets of
 * `build.secrets` (given with --secret) and the SSH agents of `build.ssh` (given with --ssh), which
 * only BuildKit can mount. Checked when the project is loaded, before anything is built or written.
 */
import { UsageError } from '../errors.js';
import type { BuiltComponent } from './model.js';

export interface GivenBuildNeeds {
  /** Ids of the secrets given (--secret). */
  secrets: string[];
  /** Ids of the SSH agents given (--ssh). */
  ssh: string[];
  /** The builder the user chose; `classic` can mount neither. */
  builder?: 'auto' | 'classic' | 'buildkit';
}

/** Throws a UsageError (exit 2) naming each component and id that is missing, or that the classic builder cannot mount. */
export function checkBuildNeeds(components: BuiltComponent[], given: GivenBuildNeeds): void {
  const problems: string[] = [];
  const secrets = new Set(given.secrets);
  const agents = new Set(given.ssh);
  for (const c of components) {
    if (given.builder === 'classic' && (c.build.secrets.length || c.build.ssh.length)) {
      const what = [...c.build.secrets.map((id) => `secret "${id}"`), ...c.build.ssh.map((id) => `SSH agent "${id}"`)].join(', ');
      problems.push(`component ${c.name} needs ${what} (${c.file}), which the classic builder cannot mount: build it with BuildKit`);
      continue;
    }
    for (const id of c.build.secrets) {
      if (!secrets.has(id))
        problems.push(
          `component ${c.name} needs build secret "${id}" (build.secrets in ${c.file}): give it with --secret id=${id},env=VAR or --secret id=${id},src=FILE`,
        );
    }
    for (const id of c.build.ssh) {
      if (!agents.has(id))
        problems.push(
          `component ${c.name} needs SSH agent "${id}" (build.ssh in ${c.file}): give it with --ssh ${id === 'default' ? 'default' : `${id}=SOCKET`}`,
        );
    }
  }
  if (problems.length) {
    throw new UsageError(problems.join('\n'), { hint: 'Nothing was built or written.' });
  }
}
