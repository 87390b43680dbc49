import type { z } from 'zod';

/*
 * The one place where the command line words validation. The rules are the handlers' own (their
 * zod schemas and checks); this module only says, in the project's style, which flag or which
 * `--input-json` field to change: "--max-wait must be at least 1 second, not 0".
 */

/** Where an execution input came from: the `run` flags, or the file `--input-json` names. */
export type InputSource = { readonly kind: 'flags' } | { readonly kind: 'file'; readonly file: string };

/** Export input field (list indices left out) → the flag that sets it. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  exportName: '--export-name',
  kind: '--traffic',
  path: '--path',
  query: '--query',
  format: '--format',
  gzip: '--gzip',
  maxWaitSeconds: '--max-wait',
  traffic: '--traffic',
  'traffic.since': '--since',
  'traffic.start': '--start',
  'traffic.end': '--end',
  'traffic.policyDecisions': '--policy-decision',
  'traffic.maxResults': '--max-results',
  'traffic.sources': '--source',
  'traffic.sources.include': '--source',
  'traffic.sources.exclude': '--exclude-source',
  'traffic.destinations': '--destination',
  'traffic.destinations.include': '--destination',
  'traffic.destinations.exclude': '--exclude-destination',
  'traffic.services': '--service',
  'traffic.services.include': '--service',
  'traffic.services.exclude': '--exclude-service',
  'traffic.transmission': '--transmission',
  'traffic.draftPolicy': '--draft-policy',
  'traffic.excludeWorkloadsFromIpListQuery': '--ip-lists-include-workloads',
  'traffic.maxQueries': '--max-queries',
  'traffic.allowPartial': '--allow-partial',
  'traffic.incremental': '--incremental',
  'traffic.overlap': '--overlap',
  'traffic.catchUp': '--catch-up',
  events: '--events',
  'events.since': '--since',
  'events.start': '--start',
  'events.end': '--end',
  'events.incremental': '--incremental',
  'events.overlap': '--overlap',
  'events.catchUp': '--catch-up',
};

/** Fields whose numbers count something, for "must be at least 1 second". */
const UNIT_OF_FIELD: Readonly<Record<string, string>> = { maxWaitSeconds: 'second' };

type Path = readonly PropertyKey[];

const fieldKey = (path: Path) => path.filter((key) => typeof key !== 'number').join('.');

/** The flag that sets the field at `path`: the most specific one the table knows. */
function flagOf(path: Path): string {
  const keys = path.filter((key): key is string => typeof key === 'string');
  for (let length = keys.length; length > 0; length--) {
    const flag = FLAG_OF_FIELD[keys.slice(0, length).join('.')];
    if (flag !== undefined) return flag;
  }
  return `--${keys.join('.')}`;
}

/** `["traffic", "sources", "include", 0]` → `traffic.sources.include[0]`. */
function fieldName(path: Path): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

/** One sentence about the field at `path`: "--max-wait …" or "--input-json in.json: maxWaitSeconds …". */
function sentence(source: InputSource, path: Path, phrase: string): string {
  if (source.kind === 'flags') return `${flagOf(path)} ${phrase}`;
  return path.length === 0
    ? `--input-json ${source.file} ${phrase}`
    : `--input-json ${source.file}: ${fieldName(path)} ${phrase}`;
}

const plural = (count: number, unit: string | undefined) =>
  unit === undefined ? '' : ` ${unit}${count === 1 ? '' : 's'}`;

/** `a`, `a or b`, `a, b or c`. */
const alternatives = (words: readonly string[]) =>
  words.length <= 2 ? words.join(' or ') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;

const TYPE_WORDS: Readonly<Record<string, string>> = {
  int: 'a whole number',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a JSON object',
  array: 'a list',
  record: 'a JSON object',
};

/**
 * The project's wording for zod's built-in checks, passed to `safeParse` as its error map.
 * Messages the schemas set themselves ("must be a duration such as …") take precedence.
 */
export const projectWording: z.core.$ZodErrorMap = (issue) => {
  const unit = UNIT_OF_FIELD[fieldKey(issue.path ?? [])];
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const word =
        issue.code === 'too_small'
          ? issue.inclusive
            ? 'at least'
            : 'more than'
          : issue.inclusive
            ? 'at most'
            : 'less than';
      if (issue.origin === 'string')
        return bound === 1 && issue.code === 'too_small'
          ? 'must not be empty'
          : `must be ${word} ${bound} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `must have ${word} ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
      return `must be ${word} ${bound}${plural(bound, unit)}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_WORDS[issue.expected] ?? `a ${issue.expected}`}${unit && issue.expected === 'number' ? ` of ${unit}s` : ''}`;
    case 'invalid_value':
      return `must be ${alternatives(issue.values.map(String))}`;
    case 'invalid_format':
      return 'is not in the expected format';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    default:
      return 'is not valid';
  }
};

/** Every problem zod found in `input`, as sentences joined by "; ". */
export function describeInputIssues(error: z.ZodError, input: unknown, source: InputSource): string {
  return flatten(error.issues, [])
    .map(({ issue, path }) => {
      if (issue.code === 'unrecognized_keys') {
        const fields = issue.keys.map((key) => JSON.stringify(key)).join(', ');
        return sentence(source, path, `has unknown field${issue.keys.length > 1 ? 's' : ''} ${fields}`);
      }
      if (issue.code === 'invalid_key') {
        const key = path.at(-1);
        const reason = issue.issues.map((inner) => inner.message).join(', ');
        return sentence(source, path.slice(0, -1), `key ${JSON.stringify(key)} is not accepted: ${reason}`);
      }
      const phrase = source.kind === 'flags' ? siblingFlags(issue.message, path) : issue.message;
      return sentence(source, path, `${phrase}${givenValue(phrase, valueAt(input, path))}`);
    })
    .filter((text, index, all) => all.indexOf(text) === index)
    .join('; ');
}

/**
 * Issues with their full paths; of a union, the alternative the input was meant to be (the one
 * that did not fail on the input's type alone).
 */
function flatten(issues: readonly z.core.$ZodIssue[], base: Path): { issue: z.core.$ZodIssue; path: Path }[] {
  return issues.flatMap((issue) => {
    const path = [...base, ...issue.path];
    if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [{ issue, path }];
    const meant =
      issue.errors.find(
        (branch) => !branch.some((inner) => inner.code === 'invalid_type' && inner.path.length === 0),
      ) ??
      issue.errors[0] ??
      [];
    return flatten(meant, path);
  });
}

function valueAt(input: unknown, path: Path): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/**
 * The fields a schema message names beside its own ("cannot be combined with start or end", "needs
 * a start") as the flags that set them: "cannot be combined with --start or --end", "needs --start".
 */
function siblingFlags(phrase: string, path: Path): string {
  const parent = path
    .filter((key): key is string => typeof key === 'string')
    .slice(0, -1)
    .join('.');
  return phrase.replace(/\b(?:an? )?([A-Za-z]+)\b/g, (match, word: string) => {
    const flag = FLAG_OF_FIELD[parent ? `${parent}.${word}` : word];
    return flag === undefined || word === path.at(-1) ? match : flag;
  });
}

/** ", not 0" after "must be …" (a kind or a range, not an order), for a short value the user gave. */
function givenValue(phrase: string, value: unknown): string {
  if (!phrase.startsWith('must be') || /^must be (after|before)\b/.test(phrase)) return '';
  if (typeof value === 'number') return `, not ${value}`;
  if (typeof value === 'string' && value.length <= 100) return `, not ${JSON.stringify(value)}`;
  return '';
}

/** `input.traffic.start`, `traffic.sources.include[0]`, `input.snapshot.exports[2]` in a handler's message. */
const FIELD_REFERENCE = /\binput\.([A-Za-z]+(?:\.[A-Za-z]+|\[\d+\])*)|\b(traffic(?:\.[A-Za-z]+|\[\d+\])+)/g;

/** `traffic.sources.include[0]` → `["traffic", "sources", "include", 0]`. */
function parseFieldName(name: string): Path {
  return [...name.matchAll(/([A-Za-z]+)|\[(\d+)\]/g)].map((match) =>
    match[2] === undefined ? (match[1] ?? '') : Number(match[2]),
  );
}

/**
 * A handler's ExportConfigError about the execution input ("Invalid input: input.traffic.end
 * must be after input.traffic.start") reworded for the command line: its field names become the
 * flags (or stay `--input-json` fields), the org is the one `--org` gives.
 */
export function rewordHandlerMessage(message: string, source: InputSource): string {
  const configured = /^Invalid input \(with export "([^"]+)" as configured\): /.exec(message);
  let text = message.replace(/^Invalid input(?: \([^)]*\))?: /, '');
  text = text
    .replace(FIELD_REFERENCE, (_match, inInput: string | undefined, inTraffic: string | undefined) => {
      const path = parseFieldName(inInput ?? inTraffic ?? '');
      return source.kind === 'flags' ? flagOf(path) : fieldName(path);
    })
    .replaceAll('the configured org', '--org')
    .replaceAll('(configured: ', '(configured in config/pce-export.json: ');
  if (configured) text += ` (with export "${configured[1]}" as configured in config/pce-export.json)`;
  return source.kind === 'flags' ? text : `--input-json ${source.file}: ${text}`;
}
