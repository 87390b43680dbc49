import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator/index';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const exec = promisify(execFile);

/** Reads all of stdin, parses it as one JSON document and prints its keys. */
const PARSER = `let t='';process.stdin.on('data',(c)=>{t+=c}).on('end',()=>{const v=JSON.parse(t);process.stdout.write(JSON.stringify(Object.keys(v)))})`;

describe('pce-export run on stdout', () => {
  let simulator: RunningSimulator;
  let dir: string;

  beforeAll(async () => {
    simulator = await startSimulator({ jobDurationMs: 300, retryAfterSeconds: 1, dataset: { labels: 50 } });
    dir = await mkdtemp(join(tmpdir(), 'pce-export-stdout-'));
  });
  afterAll(async () => {
    await simulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints only the result when piped into a JSON parser, the handlers logging at DEBUG on stderr', async () => {
    const stderrFile = join(dir, 'stderr.txt');
    const script = `set -o pipefail; "$NODE" "$BIN" run --pce-url "$URL" --org 1 --path /labels --out "$OUT" 2>"$ERR" | "$NODE" -e "$PARSER"`;

    const { stdout } = await exec('bash', ['-c', script], {
      env: {
        ...process.env,
        NODE: process.execPath,
        BIN,
        URL: simulator.url,
        OUT: join(dir, 'out'),
        ERR: stderrFile,
        PARSER,
        PCE_API_KEY: simulator.credentials.apiKey,
        PCE_API_SECRET: simulator.credentials.apiSecret,
        POWERTOOLS_LOG_LEVEL: 'DEBUG',
      },
    });

    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(['exportName', 'uri', 'sha256', 'localPath']));
    const logLines = (await readFile(stderrFile, 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level?: string; service?: string });
    // The handlers log nothing below INFO today; DEBUG lets every line through.
    expect(logLines.some((line) => line.level === 'INFO' && line.service === 'pce-export')).toBe(true);
  });
});
