import { parseArgs } from 'node:util';
import { UsageError } from './errors';

/*
 * Command-line flags, parsed by node:util's parseArgs in its lenient mode and checked here, so
 * that every mistake gets our own sentence: an unknown flag (with the flag that was probably
 * meant), a flag without its value, a value given to a switch, a stray argument. A value that
 * looks like a negative number (`--workloads -5`) is taken as the flag's value, so that the
 * range check can say what is wrong with it.
 */

interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
}

type FlagSpecs = Readonly<Record<string, FlagSpec>>;

type FlagValues<S extends FlagSpecs> = {
  -readonly [K in keyof S]?: S[K]['type'] extends 'boolean'
    ? boolean
    : S[K]['multiple'] extends true
      ? string[]
      : string;
};

/**
 * What to say of an unknown flag a user is likely to try, by its name (`output`, `k`): the flag
 * meant, or why there is none. Other unknown flags get the closest known one.
 */
export type FlagHints = Readonly<Record<string, string>>;

/** Parses `argv` against `specs`; any mistake is a UsageError naming the flag. */
export function parseFlags<S extends FlagSpecs>(
  argv: readonly string[],
  specs: S,
  hints: FlagHints = {},
): FlagValues<S> {
  const { tokens } = parseArgs({
    args: [...argv],
    options: specs as Record<string, FlagSpec>,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const values: Record<string, string | string[] | boolean> = {};
  let previous: { name: string; spec: FlagSpec } | undefined;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') throw new UsageError('"--" is not an option of this command');
    if (token.kind === 'positional') {
      const after =
        previous?.spec.type === 'boolean'
          ? ` (--${previous.name} takes no value)`
          : ' (every value follows its flag, e.g. --path /labels)';
      throw new UsageError(`unexpected argument ${JSON.stringify(token.value)}${after}`);
    }
    const spec = specs[token.name];
    if (spec === undefined) {
      // A typo of a hinted name (`--untl`) gets its hint; short ones (`-o`, `--to`) only as given.
      const hinted = Object.keys(hints).filter((name) => name.length > 2);
      const meant = Object.hasOwn(hints, token.name)
        ? token.name
        : closestName(token.name, [...Object.keys(specs), ...hinted]);
      const hint =
        meant !== undefined && Object.hasOwn(hints, meant)
          ? hints[meant]
          : meant && `did you mean --${meant}?`;
      throw new UsageError(`unknown option ${token.rawName}${hint ? `: ${hint}` : ''}`);
    }
    const flag = `--${token.name}`;
    if (spec.type === 'boolean') {
      if (token.value !== undefined) throw new UsageError(`${flag} takes no value (give ${flag} on its own)`);
      if (values[token.name] !== undefined) throw new UsageError(`${flag} is given twice`);
      values[token.name] = true;
    } else {
      const value = token.value;
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
      if (!token.inlineValue && value.startsWith('-') && !/^-\d/.test(value)) {
        throw new UsageError(`${flag} needs a value; it is followed by the option ${value}`);
      }
      const earlier = values[token.name];
      if (spec.multiple) values[token.name] = [...((earlier as string[] | undefined) ?? []), value];
      else if (earlier !== undefined) throw new UsageError(`${flag} is given twice`);
      else values[token.name] = value;
    }
    previous = { name: token.name, spec };
  }
  return values as FlagValues<S>;
}

/** The known name (a flag, a command) a mistyped one most likely meant: a typo, a longer or a shorter spelling. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  const scored = known
    .map((candidate) => {
      if (candidate.startsWith(name) || name.startsWith(`${candidate}-`) || candidate.endsWith(`-${name}`))
        return { candidate, score: 1 };
      const distance = editDistance(name, candidate);
      return { candidate, score: distance <= (name.length <= 4 ? 1 : 2) ? 1 + distance : Infinity };
    })
    .filter(({ score }) => score < Infinity)
    .sort((a, b) => a.score - b.score);
  const [best, second] = scored;
  if (best === undefined || (second !== undefined && second.score === best.score)) return undefined;
  return best.candidate;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/** A flag that takes a whole number within a range. */
export function wholeNumberFlag(
  flag: string,
  raw: string | undefined,
  range: { readonly min: number; readonly max: number },
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || value < range.min || value > range.max) {
    throw new UsageError(
      `${flag} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(raw)}`,
    );
  }
  return value;
}
