#!/usr/bin/env node
// The package's command line. TypeScript sources are loaded through tsx, so `npx pce-export`
// works straight after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
