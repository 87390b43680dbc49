#!/usr/bin/env node
// The package's command line. Its TypeScript sources run from a bundle that is built on first use
// and rebuilt whenever a source changes (cli-bundle.mjs), so `npx pce-export` works straight after
// `npm ci`, with no build step, and starts without a TypeScript loader.
import module from 'node:module';
import { join } from 'node:path';

// V8's compiled code of every module, kept for the next start (Node.js 22.1 and later).
module.enableCompileCache?.(join(import.meta.dirname, '..', 'node_modules', '.cache', 'pce-export', 'v8'));
const { loadCli } = await import('./cli-bundle.mjs');
const { claimProcessIo, main } = await loadCli();
// Before any command loads: from here on only the result reaches stdout.
const io = claimProcessIo();
const code = await main(process.argv.slice(2), io);
// Keep-alive connection pools would hold the process open; stdout and stderr are synchronous
// for files and pipes, so nothing printed is lost by leaving now.
process.exit(code);
