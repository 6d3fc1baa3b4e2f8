// Bundles the CLI into lib/bundle/ (esbuild): one file for what every run loads, a chunk per command
// and for what only some runs need (loaded on first use), source maps beside them. dockerode is
// bundled too, with the parts few runs use left out of it and loaded from node_modules on first
// use: docker-modem's ssh transport (ssh2, for ssh:// engines), dockerode's own BuildKit session
// (gRPC; helmet-build opens its own) and its BuildKit progress reader (reads protos next to it).
// Loading them at start cost a run that talks to the engine about 80 ms.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, sep } from 'node:path';
import { build } from 'esbuild';

/** `./name` required by a file of `pkg`'s lib/, to be loaded from node_modules only when called. */
const DEFERRED = [
  { pkg: 'docker-modem', name: 'ssh' },
  { pkg: 'dockerode', name: 'session' },
  { pkg: 'dockerode', name: 'buildkit' },
];

const deferDockerParts = {
  name: 'defer-docker-parts',
  setup(b) {
    b.onResolve({ filter: /^\.\/(ssh|session|buildkit)$/ }, (args) => {
      const part = DEFERRED.find((d) => args.importer.includes(`${sep}node_modules${sep}${d.pkg}${sep}lib${sep}`) && args.path === `./${d.name}`);
      if (!part) return undefined;
      return { path: `${part.pkg}/lib/${part.name}.js`, namespace: 'deferred' };
    });
    // The stand-in: the real module is required (from node_modules, outside the bundle) on first call.
    // buildkit exports an object, the others a function.
    b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
      contents: args.path.endsWith('buildkit.js')
        ? `module.exports = { followProgress() { return require(${JSON.stringify(args.path)}).followProgress.apply(this, arguments); } };`
        : `module.exports = function () { return require(${JSON.stringify(args.path)}).apply(this, arguments); };`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^(docker-modem\/lib\/ssh|dockerode\/lib\/(session|buildkit))\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * Two dependencies load at start what few runs use: commander requires node:child_process (for
 * subcommands run as executables, which helmet-build has none of) and fdir requires picomatch from
 * node_modules (its glob matcher: project-config.ts hands fdir one when it globs). Together 8-10 ms
 * of every run. Each is patched to load on first use; a patch that no longer matches fails the build,
 * so an upgrade cannot drop it unseen.
 */
const PATCHES = [
  {
    file: `${sep}node_modules${sep}commander${sep}lib${sep}command.js`,
    from: "const childProcess = require('node:child_process');",
    to: "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };",
  },
  {
    file: `${sep}node_modules${sep}fdir${sep}dist${sep}index.mjs`,
    from: '__require.resolve("picomatch");\n\tpm = __require("picomatch");',
    to: '',
  },
];

const lazyStartUp = {
  name: 'lazy-start-up',
  setup(b) {
    b.onLoad({ filter: /[\\/](commander[\\/]lib[\\/]command\.js|fdir[\\/]dist[\\/]index\.mjs)$/ }, (args) => {
      const patch = PATCHES.find((p) => args.path.endsWith(p.file));
      const text = readFileSync(args.path, 'utf8');
      if (!patch || !text.includes(patch.from)) throw new Error(`${args.path}: the start-up patch no longer matches; see scripts/bundle.mjs`);
      return { contents: text.replace(patch.from, patch.to), loader: 'js' };
    });
  },
};

/**
 * This build's identity, from everything that goes into it: caches that hold what a build computed
 * (the checked project in .helmet-cache/) are used again by the same build only.
 */
function buildId() {
  const hash = createHash('sha256');
  const files = readdirSync('src', { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name))
    .sort();
  for (const file of [...files, 'package-lock.json', 'scripts/bundle.mjs']) hash.update(file).update('\0').update(readFileSync(file)).update('\0');
  return hash.digest('hex').slice(0, 32);
}

// Chunk names change with their content: start empty, so no stale chunk lingers.
rmSync('lib/bundle', { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'lib/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  // ssh2 has optional native parts: it stays in node_modules (and is loaded only for ssh:// engines).
  external: ['ssh2', 'cpu-features'],
  plugins: [deferDockerParts, lazyStartUp],
  // Less text to scan at every start (names kept: stack traces stay readable, and source maps are beside).
  minifyWhitespace: true,
  minifySyntax: true,
  // readable-stream (docker-modem, bl) is a userland copy of Node's own streams, API-compatible with
  // them: Node's own are already loaded, the copy would be 80 KB more to compile on every engine call.
  alias: { 'readable-stream': 'node:stream' },
  define: { __HELMET_BUILD_ID__: JSON.stringify(buildId()) },
  // CommonJS dependencies call require() for Node's own modules; an ES module bundle needs one.
  banner: { js: "import { createRequire as __helmetRequire } from 'node:module'; const require = __helmetRequire(import.meta.url);" },
  logLevel: 'warning',
});
