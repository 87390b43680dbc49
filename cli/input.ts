import { readFileSync } from 'node:fs';
import { ExportConfigError } from '../lambdas/contracts/errors';
import { exportInputSchema, snapshotInputSchema } from '../lambdas/contracts/input';
import { COLLECTION_PATH, HREF_ID } from '../lambdas/contracts/patterns';
import type { ConfiguredExports } from '../lambdas/export/exports-config';
import { resolveExportRequest } from '../lambdas/export/input';
import { planSnapshot } from '../lambdas/export/snapshot';
import { checkTrafficActors, trafficActor, trafficQueryBody } from '../lambdas/export/traffic-query';
import { UsageError } from './errors';
import { TRAFFIC_SWITCH_FLAGS, type TrafficSwitchFlags, trafficSwitches } from './traffic-flags';
import { describeInputIssues, type InputSource, projectWording, rewordHandlerMessage } from './wording';

/*
 * The execution input of `run`: from the flags or from `--input-json`. Its shape is checked with
 * the schemas the handlers use, while parsing; what depends on the deploy configuration (export
 * and snapshot names) once the local engine has synthesized it, before the execution starts.
 */

export interface RunInput {
  readonly value: Record<string, unknown>;
  readonly source: InputSource;
}

/** The flags that stand for export input fields. */
interface InputFlags extends TrafficSwitchFlags {
  readonly path?: string;
  readonly query?: readonly string[];
  readonly 'export-name'?: string;
  readonly format?: string;
  readonly gzip?: boolean;
  readonly 'no-gzip'?: boolean;
  readonly 'max-wait'?: string;
  readonly traffic?: boolean;
  readonly events?: boolean;
  readonly since?: string;
  readonly start?: string;
  readonly end?: string;
  readonly 'policy-decision'?: readonly string[];
  readonly 'max-results'?: string;
  readonly source?: readonly string[];
  readonly destination?: readonly string[];
  readonly 'exclude-source'?: readonly string[];
  readonly 'exclude-destination'?: readonly string[];
  readonly incremental?: boolean;
  readonly overlap?: string;
  readonly 'catch-up'?: string;
}

/** The window flags: a traffic export's range or an events export's window, and whether it is incremental. */
const WINDOW_FLAGS = ['since', 'start', 'end', 'incremental', 'overlap', 'catch-up'] as const;

const TRAFFIC_FLAGS = [
  'policy-decision',
  'max-results',
  'source',
  'destination',
  'exclude-source',
  'exclude-destination',
  ...TRAFFIC_SWITCH_FLAGS,
] as const;

/** The flags that make up an export input; `--input-json` replaces all of them. */
export const INPUT_FLAGS = [
  'path',
  'query',
  'export-name',
  'format',
  'gzip',
  'no-gzip',
  'max-wait',
  'traffic',
  'events',
  ...WINDOW_FLAGS,
  ...TRAFFIC_FLAGS,
] as const satisfies readonly (keyof InputFlags)[];

const ACTOR_FLAGS = ['source', 'destination', 'exclude-source', 'exclude-destination'] as const;

/** The export input the flags stand for, checked as Submit would check it. */
export function inputFromFlags(flags: InputFlags, orgId: number, now = new Date()): RunInput {
  if (flags.gzip && flags['no-gzip'])
    throw new UsageError('--gzip and --no-gzip contradict each other: give one');
  if (flags.traffic && flags.events)
    throw new UsageError('--traffic and --events are two kinds of export: give one');
  const stray = TRAFFIC_FLAGS.find((flag) => !flags.traffic && flags[flag] !== undefined);
  if (stray) throw new UsageError(`--${stray} goes with --traffic`);
  const strayWindow = WINDOW_FLAGS.find(
    (flag) => !flags.traffic && !flags.events && flags[flag] !== undefined,
  );
  if (strayWindow) throw new UsageError(`--${strayWindow} goes with --traffic or --events`);
  const kind = flags.traffic ? 'traffic' : flags.events ? 'events' : undefined;
  if (kind !== undefined) {
    for (const flag of ['path', 'query'] as const) {
      if (flags[flag] !== undefined)
        throw new UsageError(
          `--${flag} does not go with --${kind} (a ${kind} export has no collection path)`,
        );
    }
    for (const flag of ACTOR_FLAGS) for (const actor of flags[flag] ?? []) actorHint(flag, actor, orgId);
  } else {
    if (flags.path === undefined || flags.path === '')
      throw new UsageError(
        '--path is required (e.g. --path /labels), or --traffic, or --events, or --input-json FILE',
      );
    pathHint(flags.path, orgId);
  }
  const value: Record<string, unknown> = {
    ...(flags.traffic ? trafficInput(flags) : flags.events ? eventsInput(flags) : { path: flags.path }),
    ...(flags.query?.length ? { query: queryOf(flags.query) } : {}),
    ...(flags['export-name'] === undefined ? {} : { exportName: flags['export-name'] }),
    ...(flags.format === undefined ? {} : { format: flags.format }),
    ...(flags.gzip ? { gzip: true } : flags['no-gzip'] ? { gzip: false } : {}),
    ...(flags['max-wait'] === undefined ? {} : { maxWaitSeconds: numeric(flags['max-wait']) }),
  };
  const input: RunInput = { value, source: { kind: 'flags' } };
  const parsed = exportInputSchema.safeParse(value, { error: projectWording });
  if (!parsed.success) throw new UsageError(describeInputIssues(parsed.error, value, input.source));
  // Resolving the request checks what the schema cannot alone: the range against the run's start,
  // the org of every actor.
  checkInput(input, { orgId, configuredExports: {}, configuredSnapshots: {}, now });
  return input;
}

/** The execution input in a `--input-json` file: an export input or a snapshot. */
export function inputFromFile(file: string): RunInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--input-json ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--input-json ${file} is not valid JSON (${jsonErrorText(error, text)})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new UsageError(`--input-json ${file} must hold one JSON object`);
  const source: InputSource = { kind: 'file', file };
  const schema = 'snapshot' in value ? snapshotInputSchema : exportInputSchema;
  const parsed = schema.safeParse(value, { error: projectWording });
  if (!parsed.success) throw new UsageError(describeInputIssues(parsed.error, value, source));
  return { value: value as Record<string, unknown>, source };
}

interface InputContext {
  readonly orgId: number;
  /** The configured exports and snapshots, as the deployed functions read them from the configuration object. */
  readonly configuredExports: ConfiguredExports['exports'];
  readonly configuredSnapshots: ConfiguredExports['snapshots'];
  readonly now?: Date;
}

/** The configured exports and snapshots in the configuration object the local engine writes for the run's workflow. */
export function configuredFrom(configuration: string | undefined) {
  const { exports, snapshots } = JSON.parse(
    configuration ?? '{"exports":{},"snapshots":{}}',
  ) as ConfiguredExports;
  return { configuredExports: exports, configuredSnapshots: snapshots };
}

/**
 * Resolves the input as Submit (or PlanSnapshot, for a snapshot) will: a named export or
 * snapshot must be configured, a traffic actor must belong to `--org`. Throws UsageError.
 */
export function checkInput(input: RunInput, context: InputContext): void {
  const now = context.now ?? new Date();
  try {
    if (!('snapshot' in input.value)) {
      checkExport(input.value, context, now);
      return;
    }
    const { snapshot } = planSnapshot(
      { input: input.value, execution: { name: 'check', startTime: now.toISOString() } },
      {
        configuredExports: context.configuredExports,
        configuredSnapshots: context.configuredSnapshots,
        prefix: '',
      },
    );
    snapshot.members.forEach((member, index) => {
      try {
        checkExport(member, context, now, true);
      } catch (error) {
        if (!(error instanceof ExportConfigError)) throw error;
        const detail = error.message.replace(/^Invalid input: /, '');
        throw new ExportConfigError(`Invalid input: input.snapshot.exports[${index}]: ${detail}`);
      }
    });
  } catch (error) {
    if (error instanceof ExportConfigError)
      throw new UsageError(rewordHandlerMessage(error.message, input.source));
    throw error;
  }
}

/**
 * A traffic export on its own runs in windows, whose plan resolves `key=value` labels; a snapshot
 * member is one query, which takes hrefs only.
 */
function checkExport(value: unknown, context: InputContext, now: Date, member = false): void {
  const request = resolveExportRequest(value, context.configuredExports, { now });
  if (request.traffic && !member) checkTrafficActors(request.traffic, context.orgId);
  else if (request.traffic)
    trafficQueryBody(request.traffic, {
      exportName: request.name,
      executionName: 'check',
      orgId: context.orgId,
    });
}

/** A number where the flag's text is one, so that the schema says what is wrong with it; the text otherwise. */
function numeric(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function queryOf(pairs: readonly string[]): Record<string, string> {
  const query: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--query must be KEY=VALUE, not ${JSON.stringify(pair)}`);
    const key = pair.slice(0, eq);
    if (Object.hasOwn(query, key))
      throw new UsageError(
        `--query ${key}= is given twice: give each key once (a PCE query takes one value per key)`,
      );
    query[key] = pair.slice(eq + 1);
  }
  return query;
}

/** The fields the window flags stand for, in `traffic` or in `events`. */
function windowInput(flags: InputFlags): Record<string, unknown> {
  return {
    ...(flags.since === undefined ? {} : { since: flags.since }),
    ...(flags.start === undefined ? {} : { start: flags.start }),
    ...(flags.end === undefined ? {} : { end: flags.end }),
    ...(flags.incremental ? { incremental: true } : {}),
    ...(flags.overlap === undefined ? {} : { overlap: flags.overlap }),
    ...(flags['catch-up'] === undefined ? {} : { catchUp: flags['catch-up'] }),
  };
}

/** The `{kind: "events", events: {...}}` input the window flags stand for with `--events`. */
function eventsInput(flags: InputFlags): Record<string, unknown> {
  return { kind: 'events', events: windowInput(flags) };
}

/** The `{kind: "traffic", traffic: {...}}` input the traffic flags stand for. */
function trafficInput(flags: InputFlags): Record<string, unknown> {
  const groups = (actors: readonly string[] | undefined) =>
    (actors ?? []).map((flag) => (flag.includes(',') ? flag.split(',').map((actor) => actor.trim()) : flag));
  const filter = (include: readonly string[] | undefined, exclude: readonly string[] | undefined) =>
    include === undefined && exclude === undefined
      ? undefined
      : { ...(include ? { include: groups(include) } : {}), ...(exclude ? { exclude: [...exclude] } : {}) };
  const sources = filter(flags.source, flags['exclude-source']);
  const destinations = filter(flags.destination, flags['exclude-destination']);
  const maxResults = flags['max-results'];
  const traffic = {
    ...windowInput(flags),
    ...(flags['policy-decision'] === undefined ? {} : { policyDecisions: [...flags['policy-decision']] }),
    ...(maxResults === undefined ? {} : { maxResults: numeric(maxResults) }),
    ...(sources === undefined ? {} : { sources }),
    ...(destinations === undefined ? {} : { destinations }),
    ...trafficSwitches(flags),
  };
  return { kind: 'traffic', traffic };
}

/**
 * A `--path` with the API prefix, the org, a query or one object's id in it: the path to give
 * instead, built from the user's own. Anything else wrong with the path is the schema's to say.
 */
function pathHint(path: string, orgId: number): void {
  const question = path.indexOf('?');
  let collection = question < 0 ? path : path.slice(0, question);
  const query = question < 0 ? '' : path.slice(question + 1);
  const reasons: string[] = [];
  if (collection === '/api/v2' || collection.startsWith('/api/v2/')) {
    collection = collection.slice('/api/v2'.length);
    reasons.push('starts with /api/v2');
  }
  const org = /^\/orgs\/(\d+)(\/.*)?$/.exec(collection);
  const otherOrg = org && Number(org[1]) !== orgId ? org[1] : undefined;
  if (org) {
    collection = org[2] ?? '';
    reasons.push(otherOrg ? `names org ${otherOrg}` : 'names the org');
  }
  if (query) reasons.push('holds a query');
  if (!collection.startsWith('/') && collection !== '') {
    collection = `/${collection}`;
    reasons.push('does not start with "/"');
  }
  if (collection.length > 1 && collection.endsWith('/')) {
    collection = collection.replace(/\/+$/, '');
    reasons.push('ends with "/"');
  }
  const [, parent = '', id = ''] = /^(.*)\/([^/]+)$/.exec(collection) ?? [];
  if (!COLLECTION_PATH.test(collection) && COLLECTION_PATH.test(parent) && HREF_ID.test(id)) {
    collection = parent;
    reasons.push('names one object (an export takes a collection)');
  }
  if (reasons.length === 0 || !COLLECTION_PATH.test(collection)) return;
  const queryFlags = [...new URLSearchParams(query)].map(
    ([key, value]) => ` --query ${shellWord(`${key}=${value}`)}`,
  );
  const relative = org ? ' (the path is relative to the org, which --org gives)' : '';
  throw new UsageError(
    `--path ${JSON.stringify(path)} ${listed(reasons)}: use --path ${collection}${queryFlags.join('')}${otherOrg ? ` --org ${otherOrg}` : ''}${relative}`,
  );
}

/** An actor href without its org (`labels/7`, `/labels/7`): the href in the org `--org` gives. */
function actorHint(flag: (typeof ACTOR_FLAGS)[number], actors: string, orgId: number): void {
  const parts = actors.split(',').map((part) => part.trim());
  if (parts.length > 1 && parts.includes(''))
    throw new UsageError(
      `--${flag} ${JSON.stringify(actors)} has an empty actor: A,B needs an actor on each side of every ","`,
    );
  for (const actor of parts) {
    if (actor === '' || trafficActor(actor) !== undefined) continue;
    const href = `/orgs/${orgId}/${actor.replace(/^\/+/, '')}`;
    if (trafficActor(href) !== undefined)
      throw new UsageError(`--${flag} ${JSON.stringify(actor)} is not an href: use --${flag} ${href}`);
  }
}

/** What JSON.parse says is wrong, on one line and without the file's text, with the line and column where it has the offset. */
function jsonErrorText(error: unknown, text: string): string {
  const message = (error as Error).message.split('\n')[0] ?? '';
  const reason = message.replace(/, ".*$/s, '').replace(/ in JSON at position \d+.*$/, '');
  const position = /position (\d+)/.exec(message)?.[1];
  if (position === undefined) return reason;
  const before = text.slice(0, Number(position)).split('\n');
  return `${reason} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '');
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'"'"'`)}'`;
}
