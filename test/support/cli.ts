import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');

export interface CliOutcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs bin/pce-export with `args` in `cwd`, with `env` as its whole environment, to its end. */
export function runBin(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CliOutcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    // 'close', not 'exit': the output is whole only once the child's stdout and stderr have ended.
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
