// Bundles the CLI into lib/bundle/ (esbuild): one file for what every run loads, a chunk per command
// and for what only some runs need (loaded on first use), source maps beside them. dockerode stays
// outside the bundle: it is loaded only when a run talks to the engine.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

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
  external: ['dockerode'],
  // CommonJS dependencies call require() for Node's own modules; an ES module bundle needs one.
  banner: { js: "import { createRequire as __helmetRequire } from 'node:module'; const require = __helmetRequire(import.meta.url);" },
  logLevel: 'warning',
});
