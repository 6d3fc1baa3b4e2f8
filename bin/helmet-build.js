#!/usr/bin/env node
import { main } from '../lib/bundle/main.js';

// Output piped into `head` and the like: a closed pipe ends the output, not the program with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const code = await main(process.argv);
process.exitCode = code;
// Node's teardown after the last callback (freeing every handle and the heap) costs a short run
// ~5 ms. When nothing but the standard streams is left, end at once, once their output is written;
// anything else still open (a child, a file being closed) ends the way Node ends it.
if (process.getActiveResourcesInfo().every((r) => r === 'PipeWrap' || r === 'TTYWrap')) {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((written) => s.write('', written))));
  process.exit(code);
}
