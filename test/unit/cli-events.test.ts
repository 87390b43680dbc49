import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/errors';
import { RUN_USAGE } from '../../cli/run';
import { parseRunArgs } from '../../cli/run-args';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const BASE = ['--pce-url', 'https://pce.example.com:8443', '--org', '1'];

function inputOf(argv: string[]): unknown {
  const args = parseRunArgs([...BASE, ...argv]);
  if (args === 'help') throw new Error('expected a run, got help');
  return args.input.value;
}

function usageError(argv: string[]): string {
  try {
    parseRunArgs([...BASE, ...argv]);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('pce-export run --events', () => {
  it('exports the last 24 hours of events when no window option is given', () => {
    expect(inputOf(['--events'])).toEqual({ kind: 'events', events: {} });
  });

  it('turns the window and incremental flags into the events input', () => {
    expect(
      inputOf(['--events', '--since', '1h', '--incremental', '--overlap', '15m', '--catch-up', '3d']),
    ).toEqual({ kind: 'events', events: { since: '1h', incremental: true, overlap: '15m', catchUp: '3d' } });
  });

  it('turns the incremental flags into the traffic input too', () => {
    expect(inputOf(['--traffic', '--incremental', '--overlap', '20m'])).toEqual({
      kind: 'traffic',
      traffic: { incremental: true, overlap: '20m' },
    });
  });

  it.each([
    [['--events', '--traffic'], '--traffic and --events are two kinds of export: give one'],
    [['--events', '--path', '/labels'], '--path does not go with --events'],
    [['--path', '/labels', '--incremental'], '--incremental goes with --traffic or --events'],
    [['--events', '--max-results', '10'], '--max-results goes with --traffic'],
    [['--events', '--overlap', '15m'], '--overlap is only used with'],
    [['--events', '--incremental', '--overlap', 'soon'], '--overlap must be a duration such as "10m"'],
    [['--events', '--incremental', '--overlap', '2d'], '--overlap must be at most 1 day'],
    [['--events', '--incremental', '--catch-up', '400d'], '--catch-up must be at most 366 days'],
    [
      ['--events', '--incremental', '--start', '2026-03-01T00:00:00Z', '--end', '2026-03-02T00:00:00Z'],
      '--end cannot be combined with --incremental',
    ],
  ])('rejects %j with a message naming the flag', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });

  it('documents the events and incremental flags in the usage text', () => {
    for (const flag of ['--events', '--incremental', '--overlap', '--catch-up']) {
      expect(RUN_USAGE).toContain(flag);
    }
  });
});
