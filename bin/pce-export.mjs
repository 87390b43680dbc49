#!/usr/bin/env node
// The package's command line. TypeScript sources are loaded through tsx, so `npx pce-export`
// works straight after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { claimProcessIo } = await import('../cli/io.ts');
// Before anything else loads: from here on only the result reaches stdout.
const io = claimProcessIo();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2), io);
// Keep-alive connection pools would hold the process open; stdout and stderr are synchronous
// for files and pipes, so nothing printed is lost by leaving now.
process.exit(code);
