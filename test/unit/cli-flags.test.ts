import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/errors';
import { closestName, parseFlags, wholeNumberFlag } from '../../cli/flags';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const SPECS = {
  org: { type: 'string' },
  'max-wait': { type: 'string' },
  'max-results': { type: 'string' },
  query: { type: 'string', multiple: true },
  gzip: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function mistake(argv: string[]): string {
  try {
    parseFlags(argv, SPECS);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('command-line flags', () => {
  it('collects values, repeated flags and switches', () => {
    expect(parseFlags(['--org', '1', '--query', 'a=1', '--query=b=2', '--gzip', '-h'], SPECS)).toEqual({
      org: '1',
      query: ['a=1', 'b=2'],
      gzip: true,
      help: true,
    });
  });

  it('takes a negative number as the value of the flag before it', () => {
    expect(parseFlags(['--max-wait', '-1'], SPECS)).toEqual({ 'max-wait': '-1' });
  });

  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['--orgg', '1'], 'unknown option --orgg: did you mean --org?'],
    [['--org-id', '1'], 'unknown option --org-id: did you mean --org?'],
    [['--max', '1'], 'unknown option --max'],
    [['-x'], 'unknown option -x'],
    [['--org'], '--org needs a value'],
    [['--org', '--gzip'], '--org needs a value; it is followed by the option --gzip'],
    [['--gzip=true'], '--gzip takes no value (give --gzip on its own)'],
    [['--gzip', 'yes'], 'unexpected argument "yes" (--gzip takes no value)'],
    [['labels'], 'unexpected argument "labels" (every value follows its flag, e.g. --path /labels)'],
    [['--org', '1', '--org', '2'], '--org is given twice'],
    [['--', '--org'], '"--" is not an option of this command'],
  ])('rejects %j with our own sentence', (argv, message) => {
    expect(mistake(argv)).toBe(message);
  });

  it('suggests a name only when one is clearly meant', () => {
    expect(closestName('rnu', ['demo', 'run', 'simulate', 'asl'])).toBe('run');
    expect(closestName('simulat', ['demo', 'run', 'simulate', 'asl'])).toBe('simulate');
    expect(closestName('deploy', ['demo', 'run', 'simulate', 'asl'])).toBeUndefined();
    expect(closestName('max', ['max-wait', 'max-results'])).toBeUndefined();
  });

  it('reads a whole number in its range, and names the range otherwise', () => {
    expect(wholeNumberFlag('--workloads', '2000', { min: 1, max: 10 ** 7 })).toBe(2000);
    expect(wholeNumberFlag('--workloads', undefined, { min: 1, max: 10 ** 7 })).toBeUndefined();
    for (const raw of ['0', '-5', '1.5', '1e3', 'many', '10000001'])
      expect(() => wholeNumberFlag('--workloads', raw, { min: 1, max: 10 ** 7 })).toThrow(
        `--workloads must be a whole number from 1 to 10000000, not ${JSON.stringify(raw)}`,
      );
  });
});
