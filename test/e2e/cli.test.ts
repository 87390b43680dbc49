import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';
import { type RunningSimulator, startSimulator } from '../../simulator/index';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const run = promisify(execFile);

interface Result {
  code: number;
  stdout: string[];
  stderr: string[];
}

async function spawnCli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const result = await run(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
  return {
    code: result.code,
    stdout: result.stdout.trimEnd().split('\n'),
    stderr: result.stderr.split('\n'),
  };
}

async function inProcess(args: string[]): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIo = {
    stdout: (line) => stdout.push(...line.split('\n')),
    stderr: (line) => stderr.push(line),
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

function lastJson(lines: string[]): Record<string, unknown> {
  return JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
}

describe('pce-export command line', () => {
  let simulator: RunningSimulator;
  let out: string;

  beforeAll(async () => {
    simulator = await startSimulator({ jobDurationMs: 300, retryAfterSeconds: 1, dataset: { labels: 120 } });
    out = await mkdtemp(join(tmpdir(), 'pce-export-cli-'));
  });
  afterAll(async () => {
    await simulator?.close();
    await rm(out, { recursive: true, force: true });
  });

  it('run exports to a directory, exits 0 and ends with the output JSON carrying localPath', async () => {
    const result = await spawnCli(
      [
        'run',
        '--pce-url',
        simulator.url,
        '--org',
        '1',
        '--path',
        '/labels',
        '--query',
        'key=env',
        '--format',
        'raw',
        '--no-gzip',
        '--out',
        out,
      ],
      { PCE_API_KEY: simulator.credentials.apiKey, PCE_API_SECRET: simulator.credentials.apiSecret },
    );

    expect(result.code).toBe(0);
    const output = lastJson(result.stdout);
    const file = await readFile(String(output.localPath));
    expect(String(output.localPath).startsWith(out)).toBe(true);
    expect(createHash('sha256').update(file).digest('hex')).toBe(output.sha256);
    expect((JSON.parse(file.toString('utf8')) as Array<{ key: string }>).every((l) => l.key === 'env')).toBe(
      true,
    );
    expect(result.stderr.some((line) => line.includes('Poll 1:'))).toBe(true);
    expect(result.stdout.join('\n')).not.toContain(simulator.credentials.apiSecret);
    expect(result.stderr.join('\n')).not.toContain(simulator.credentials.apiSecret);
  });

  it('run exits 1 with {"error","cause"} as the last line when the export fails', async () => {
    process.env.PCE_API_KEY = simulator.credentials.apiKey;
    process.env.PCE_API_SECRET = 'not-the-secret';
    try {
      const result = await inProcess([
        'run',
        '--pce-url',
        simulator.url,
        '--org',
        '1',
        '--path',
        '/labels',
        '--out',
        out,
      ]);

      expect(result.code).toBe(1);
      expect(lastJson(result.stdout)).toMatchObject({ error: 'PceAuthError' });
      expect(String(lastJson(result.stdout).cause)).toContain('401');
      expect(result.stdout.join('\n')).not.toContain('not-the-secret');
    } finally {
      delete process.env.PCE_API_KEY;
      delete process.env.PCE_API_SECRET;
    }
  });

  it.each([
    [
      ['run', '--pce-url', 'https://pce.example.com', '--org', '1', '--path', '/labels', '--bogus'],
      /unknown option --bogus/,
    ],
    [
      ['run', '--pce-url', 'https://pce.example.com', '--org', '0', '--path', '/labels'],
      /--org must be a positive integer/,
    ],
    [
      ['run', '--pce-url', 'https://pce.example.com', '--org', '1', '--path', '/labels', '--format', 'csv'],
      /--format must be raw or ndjson/,
    ],
    [['run', '--pce-url', 'https://pce.example.com', '--org', '1', '--path', '/labels?x=1'], /path/],
    [
      [
        'run',
        '--pce-url',
        'https://pce.example.com',
        '--org',
        '1',
        '--path',
        '/labels',
        '--query',
        'novalue',
      ],
      /KEY=VALUE/,
    ],
    [['run', '--org', '1', '--path', '/labels'], /--pce-url is required/],
    [
      ['run', '--pce-url', 'https://pce.example.com', '--org', '1', '--path', '/labels'],
      /PCE_API_KEY and PCE_API_SECRET/,
    ],
    [['frobnicate'], /unknown command/],
  ])('exits 2 with a usage error for %j', async (args, message) => {
    const result = await inProcess(args);

    expect(result.code).toBe(2);
    expect(lastJson(result.stdout)).toMatchObject({ error: 'UsageError' });
    expect(result.stderr.join('\n')).toMatch(message);
  });

  it('asl prints the synthesized definition', async () => {
    const result = await inProcess(['asl']);

    const definition = JSON.parse(result.stdout.join('\n')) as {
      StartAt: string;
      States: Record<string, { Type: string }>;
    };
    expect(result.code).toBe(0);
    expect(definition.StartAt).toBe('IsSnapshot');
    expect(definition.States.Submit?.Type).toBe('Task');
    expect(definition.States.WaitForJob?.Type).toBe('Wait');
  });

  it('demo exports the simulated workloads end to end', async () => {
    const demoOut = join(out, 'demo');

    const result = await spawnCli(['demo', '--workloads', '2000', '--out', demoOut]);

    expect(result.code).toBe(0);
    const output = lastJson(result.stdout);
    expect(output).toMatchObject({
      exportName: 'workloads',
      objectCount: 2000,
      format: 'ndjson',
      gzip: true,
    });
    expect((await readFile(String(output.localPath))).length).toBe(output.bytes);
    expect(result.stderr.some((line) => line.includes('Execution succeeded'))).toBe(true);
  });
});
