/**
 * Checking faults: the programmatic API (`sim.faults.add`) and `pce-export simulate --faults
 * FILE.json` take the same objects and get the same messages, naming the field at fault.
 */
import { FAULT_ENDPOINTS, type Fault, type FaultEndpoint, type FaultKind } from './fault-kinds';

/** A job fault acts on the job its submit creates. */
const JOB_KINDS: ReadonlySet<FaultKind> = new Set([
  'job-fails',
  'job-status',
  'job-vanishes',
  'job-never-finishes',
  'result-href',
  'status-case',
  'extra-fields',
  'job-phases',
  'job-href',
]);

/** Job faults that only collection jobs know (traffic queries report their own statuses). */
const COLLECTION_JOB_KINDS: ReadonlySet<FaultKind> = new Set([
  'status-case',
  'extra-fields',
  'job-phases',
  'job-href',
]);

const SELECTOR_FIELDS = ['kind', 'endpoint', 'nth', 'times', 'window'] as const;

/** The fields each kind takes besides the selector's (a fault file with any other is refused). */
const KIND_FIELDS: Readonly<Record<FaultKind, readonly string[]>> = {
  respond: ['status', 'body', 'headers', 'retryAfter'],
  reset: [],
  delay: ['ms'],
  'retry-after': ['value'],
  location: ['mode', 'template'],
  'job-fails': ['message', 'afterMs'],
  'job-status': ['status', 'afterMs'],
  'job-vanishes': ['afterPolls'],
  'job-never-finishes': ['status'],
  'result-href': ['href'],
  'slow-body': ['bytesPerSecond'],
  'cut-body': ['afterBytes'],
  'malformed-json': ['body'],
  'empty-body': [],
  'content-type': ['contentType', 'body'],
  'empty-result': [],
  'gzip-without-encoding': [],
  outage: ['status', 'retryAfter', 'body'],
  maintenance: ['retryAfter', 'body'],
  refuse: [],
  throttle: ['retryAfter'],
  'header-case': ['style'],
  framing: ['mode'],
  gzip: [],
  'deep-json': ['depth'],
  'huge-error': ['status', 'bytes'],
  'control-chars': ['text'],
  'stall-body': ['afterBytes'],
  'status-case': ['style'],
  'extra-fields': ['fields'],
  'job-phases': ['phases'],
  'job-href': ['href'],
};

export function isJobKind(kind: FaultKind): boolean {
  return JOB_KINDS.has(kind);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isInt = (v: unknown, min: number): boolean => Number.isInteger(v) && (v as number) >= min;

function endpointList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

function checkEndpoints(value: unknown, field: string, problem: (msg: string) => never): void {
  const list = endpointList(value);
  if (list.length === 0) problem(`${field} must name at least one endpoint`);
  for (const e of list)
    if (!(FAULT_ENDPOINTS as readonly unknown[]).includes(e))
      problem(`${field} ${JSON.stringify(e)} is not one of ${FAULT_ENDPOINTS.join(', ')}`);
}

function checkRetryAfter(value: unknown, problem: (msg: string) => never, allowString: boolean): void {
  if (value === undefined) return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  if (allowString && typeof value === 'string') return;
  if (
    isObject(value) &&
    typeof value.httpDateInSeconds === 'number' &&
    Number.isFinite(value.httpDateInSeconds)
  )
    return;
  problem('retryAfter must be a number of seconds or { httpDateInSeconds: N }');
}

function checkWindow(f: Fault, problem: (msg: string) => never): void {
  const w: unknown = f.window;
  if (w === undefined) {
    if (f.kind === 'refuse') problem('refuse needs a window (when and for how long to stop listening)');
    return;
  }
  if (!isObject(w)) problem('window must be an object { from?, afterMs?, forMs }');
  if (f.nth !== undefined || f.times !== undefined)
    problem('window replaces nth and times; give one or the other');
  for (const key of Object.keys(w))
    if (!['from', 'afterMs', 'forMs'].includes(key))
      problem(`window.${key} is not a window field (from, afterMs, forMs)`);
  if (!(typeof w.forMs === 'number' && w.forMs > 0))
    problem('window.forMs must be a number of milliseconds > 0');
  if (
    w.afterMs !== undefined &&
    !(typeof w.afterMs === 'number' && Number.isFinite(w.afterMs) && w.afterMs >= 0)
  )
    problem('window.afterMs must be a number of milliseconds >= 0');
  const from = w.from;
  if (from === undefined || from === 'start' || from === 'now') return;
  if (!isObject(from) || from.request === undefined)
    problem("window.from must be 'start', 'now' or { request: endpoint, nth? }");
  for (const key of Object.keys(from))
    if (key !== 'request' && key !== 'nth') problem(`window.from.${key} is not a field (request, nth)`);
  checkEndpoints(from.request, 'window.from.request', problem);
  if (from.nth !== undefined && !isInt(from.nth, 1)) problem('window.from.nth must be an integer >= 1');
}

/**
 * Throws a TypeError naming the fault and the field when `f` is not a valid fault; the message
 * starts with `prefix`.
 */
export function validateFault(f: Fault, prefix = `Invalid ${f.kind} fault`): void {
  const problem = (msg: string): never => {
    throw new TypeError(`${prefix}: ${msg}`);
  };
  if (f.nth !== undefined && !isInt(f.nth, 1)) problem('nth must be an integer >= 1');
  if (f.times !== undefined && !(f.times === Number.POSITIVE_INFINITY || isInt(f.times, 1)))
    problem('times must be an integer >= 1 or Infinity');
  if (f.endpoint !== undefined) checkEndpoints(f.endpoint, 'endpoint', problem);
  const endpoints = f.endpoint === undefined ? [] : (endpointList(f.endpoint) as FaultEndpoint[]);
  if (COLLECTION_JOB_KINDS.has(f.kind) && endpoints.some((e) => e !== 'submit'))
    problem("endpoint must be 'submit'");
  else if (isJobKind(f.kind) && endpoints.some((e) => e !== 'submit' && e !== 'traffic-submit'))
    problem("endpoint must be 'submit' or 'traffic-submit'");
  checkWindow(f, problem);
  checkKind(f, problem);
}

function checkKind(f: Fault, problem: (msg: string) => never): void {
  switch (f.kind) {
    case 'respond':
      if (!(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599))
        problem('status must be 100..599');
      checkRetryAfter(f.retryAfter, problem, true);
      break;
    case 'delay':
      if (!(f.ms >= 0)) problem('ms must be >= 0');
      break;
    case 'slow-body':
      if (!(f.bytesPerSecond > 0)) problem('bytesPerSecond must be > 0');
      break;
    case 'cut-body':
    case 'stall-body':
      if (!isInt(f.afterBytes, 0)) problem('afterBytes must be an integer >= 0');
      break;
    case 'location':
      if (!['absolute', 'relative', 'none', 'custom'].includes(f.mode))
        problem("mode must be 'absolute', 'relative', 'none' or 'custom'");
      if (f.mode === 'custom' && typeof f.template !== 'string') problem('custom mode needs a template');
      break;
    case 'outage':
      if (f.status !== undefined && ![502, 503, 504].includes(f.status))
        problem('status must be 502, 503 or 504');
      if (f.body !== undefined && !['html', 'json', 'empty'].includes(f.body))
        problem("body must be 'html', 'json' or 'empty'");
      checkRetryAfter(f.retryAfter, problem, false);
      break;
    case 'maintenance':
      if (f.body !== undefined && !['html', 'json'].includes(f.body))
        problem("body must be 'html' or 'json'");
      checkRetryAfter(f.retryAfter, problem, false);
      break;
    case 'throttle':
      checkRetryAfter(f.retryAfter, problem, false);
      break;
    case 'header-case':
    case 'status-case':
      if (f.style !== undefined && f.style !== 'upper' && f.style !== 'title')
        problem("style must be 'upper' or 'title'");
      break;
    case 'framing':
      if (f.mode !== 'chunked' && f.mode !== 'content-length')
        problem("mode must be 'chunked' or 'content-length'");
      break;
    case 'deep-json':
      if (f.depth !== undefined && !(isInt(f.depth, 1) && f.depth <= 10_000_000))
        problem('depth must be an integer from 1 to 10,000,000');
      break;
    case 'huge-error':
      if (f.status !== undefined && !(isInt(f.status, 100) && f.status <= 599))
        problem('status must be 100..599');
      if (f.bytes !== undefined && !isInt(f.bytes, 0))
        problem('bytes must be an integer >= 0 (leave it out for no end)');
      break;
    case 'job-phases':
      if (
        f.phases !== undefined &&
        !(Array.isArray(f.phases) && f.phases.length > 0 && f.phases.every((p) => typeof p === 'string'))
      )
        problem('phases must be a non-empty array of status strings');
      break;
    case 'job-href':
    case 'result-href':
      if (typeof f.href !== 'string') problem('href must be a string');
      break;
    case 'extra-fields':
      if (f.fields !== undefined && !isObject(f.fields)) problem('fields must be an object');
      break;
    case 'control-chars':
      if (f.text !== undefined && typeof f.text !== 'string') problem('text must be a string');
      break;
    default:
      break;
  }
}

/**
 * Faults from parsed JSON (a `--faults` file): an array of fault objects. `"times": "Infinity"`
 * stands for `Infinity`, which JSON cannot write. Throws a TypeError naming the entry.
 */
export function faultsFromJson(value: unknown): Fault[] {
  if (!Array.isArray(value)) throw new TypeError('the faults file must hold a JSON array of fault objects');
  return value.map((entry, i) => {
    const where = `faults[${i}]`;
    if (!isObject(entry)) throw new TypeError(`${where} must be an object with a "kind"`);
    const kind = entry.kind;
    if (typeof kind !== 'string' || !Object.hasOwn(KIND_FIELDS, kind))
      throw new TypeError(
        `${where}: unknown kind ${JSON.stringify(kind)} (kinds: ${Object.keys(KIND_FIELDS).join(', ')})`,
      );
    const allowed = [...SELECTOR_FIELDS, ...(KIND_FIELDS[kind as FaultKind] ?? [])];
    for (const key of Object.keys(entry))
      if (!allowed.includes(key))
        throw new TypeError(`${where} (${kind}): unknown field "${key}" (fields: ${allowed.join(', ')})`);
    const f = {
      ...entry,
      ...(entry.times === 'Infinity' ? { times: Number.POSITIVE_INFINITY } : {}),
    } as Fault;
    validateFault(f, `${where} (${kind})`);
    return f;
  });
}
