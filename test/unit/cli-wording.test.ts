import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod';
import { EXIT_CODES_HELP } from '../../cli/errors';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';
import { describeInputIssues, projectWording, rewordHandlerMessage } from '../../cli/wording';
import { exportInputSchema } from '../../lambdas/contracts/input';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const FLAGS = { kind: 'flags' } as const;
const FILE = { kind: 'file', file: 'in.json' } as const;

function issues(value: Record<string, unknown>, source: typeof FLAGS | typeof FILE): string {
  const parsed = exportInputSchema.safeParse(value, { error: projectWording });
  if (parsed.success) throw new Error('expected the input to be invalid');
  return describeInputIssues(parsed.error, value, source);
}

describe('validation wording', () => {
  it('names the flag, in the project style, for the checks zod words itself', () => {
    expect(issues({ path: '/labels', maxWaitSeconds: 0 }, FLAGS)).toBe(
      '--max-wait must be at least 1 second, not 0',
    );
    expect(issues({ path: '/labels', maxWaitSeconds: 90_000 }, FLAGS)).toBe(
      '--max-wait must be at most 86400 seconds, not 90000',
    );
    expect(issues({ path: '/labels', format: 'csv' }, FLAGS)).toBe(
      '--format must be raw, ndjson or parquet, not "csv"',
    );
    expect(issues({ path: '/labels', maxWaitSeconds: '1h' }, FLAGS)).toBe(
      '--max-wait must be a number of seconds, not "1h"',
    );
  });

  it('keeps the messages the schemas set, with the fields they name as flags', () => {
    expect(issues({ kind: 'traffic', traffic: { since: '7d', start: '2026-01-01' } }, FLAGS)).toBe(
      '--since cannot be combined with --start or --end',
    );
    expect(issues({ kind: 'traffic', traffic: { end: '2026-01-01' } }, FLAGS)).toBe('--end needs --start');
    expect(issues({ kind: 'traffic', traffic: { sources: { exclude: ['nope'] } } }, FLAGS)).toMatch(
      /^--exclude-source must be a label, label group, workload or IP list href .*, not "nope"$/,
    );
  });

  it('names the field of an --input-json file', () => {
    expect(issues({ path: '/labels', traffic: { maxResults: 0 }, extra: 1 }, FILE)).toBe(
      '--input-json in.json: traffic.maxResults must be at least 1, not 0; --input-json in.json has unknown field "extra"',
    );
  });

  it('counts list entries in words', () => {
    const parsed = z
      .object({ exports: z.array(z.string()).min(1) })
      .safeParse({ exports: [] }, { error: projectWording });

    expect(parsed.error && describeInputIssues(parsed.error, { exports: [] }, FILE)).toBe(
      '--input-json in.json: exports must have at least 1 entry',
    );
  });

  it('never lets zod speak for itself', () => {
    const parsed = z
      .object({ n: z.number().multipleOf(5) })
      .strict()
      .safeParse({ n: 3 }, { error: projectWording });

    expect(parsed.success).toBe(false);
    expect(parsed.error && describeInputIssues(parsed.error, { n: 3 }, FILE)).toBe(
      '--input-json in.json: n must be a multiple of 5, not 3',
    );
  });

  it('rewords a handler message about the input for the flags and for a file', () => {
    const message =
      'Invalid input: traffic.sources.include[0] "/orgs/2/labels/7" belongs to org 2, not the configured org 1';

    expect(rewordHandlerMessage(message, FLAGS)).toBe(
      '--source "/orgs/2/labels/7" belongs to org 2, not --org 1',
    );
    expect(rewordHandlerMessage(message, FILE)).toBe(
      '--input-json in.json: traffic.sources.include[0] "/orgs/2/labels/7" belongs to org 2, not --org 1',
    );
    expect(
      rewordHandlerMessage('Invalid input: input.traffic.end must be after input.traffic.start', FLAGS),
    ).toBe('--end must be after --start');
  });
});

describe('help', () => {
  it.each([[['--help']], [['run', '--help']], [['demo', '--help']]])(
    '%j states the exit code rule',
    async (argv) => {
      const stdout: string[] = [];
      const io: CliIo = { stdout: (line) => stdout.push(line), stderr: () => undefined };

      expect(await main(argv, io)).toBe(0);
      expect(stdout.join('\n')).toContain(EXIT_CODES_HELP);
    },
  );
});
