/**
 * Scriptable misbehaviour. A fault selects calls to one endpoint (or several, or `'any'`)
 * and changes what the simulator does with them. Calls are counted per fault, from the
 * moment it was added: `nth: 3, times: 2` hits the 3rd and 4th matching calls.
 *
 * Several faults may hit the same call; they compose (a `retry-after` and a `location`
 * fault both change the same 202). `respond` and `reset` end the call, so body faults do
 * not apply to them. Job faults act at submit time on the job they create.
 *
 * ```ts
 * sim.faults.add(fault.respond(503, { endpoint: 'job', times: 2 }));
 * sim.faults.add(fault.retryAfterHttpDate(3));
 * sim.faults.add(fault.cutBody(10_000, { endpoint: 'datafile' }));
 * ```
 */

import type { Fault, FaultEndpoint, FaultKind, JobFault } from './fault-kinds';

export type { FaultEndpoint } from './fault-kinds';

const DEFAULT_ENDPOINT: Readonly<Record<FaultKind, FaultEndpoint>> = {
  respond: 'any',
  reset: 'any',
  delay: 'any',
  'retry-after': 'submit',
  location: 'submit',
  'job-fails': 'submit',
  'job-status': 'submit',
  'job-vanishes': 'submit',
  'job-never-finishes': 'submit',
  'result-href': 'submit',
  'slow-body': 'datafile',
  'cut-body': 'datafile',
  'malformed-json': 'job',
  'empty-body': 'job',
  'content-type': 'job',
  'empty-result': 'traffic-download',
  'gzip-without-encoding': 'traffic-download',
};

const JOB_KINDS: ReadonlySet<FaultKind> = new Set([
  'job-fails',
  'job-status',
  'job-vanishes',
  'job-never-finishes',
  'result-href',
]);

export function isJobFault(f: Fault): f is JobFault {
  return JOB_KINDS.has(f.kind);
}

/** A fault once added: how often it has hit, and a way to take it out. */
export interface FaultHandle {
  readonly fault: Fault;
  /** Matching calls seen since it was added. */
  readonly seen: number;
  /** Calls it changed. */
  readonly hits: number;
  remove(): void;
}

export interface FaultController {
  /** Adds a fault; it counts calls from now. */
  add(fault: Fault): FaultHandle;
  /** Removes every fault. */
  clear(): void;
  /** Faults currently installed, in the order added. */
  readonly active: readonly FaultHandle[];
}

class Installed implements FaultHandle {
  seen = 0;
  hits = 0;
  private readonly endpoints: ReadonlySet<FaultEndpoint>;
  private readonly nth: number;
  private readonly times: number;

  constructor(
    readonly fault: Fault,
    private readonly owner: FaultRegistry,
  ) {
    const ep = fault.endpoint ?? DEFAULT_ENDPOINT[fault.kind];
    this.endpoints = new Set(typeof ep === 'string' ? [ep] : ep);
    this.nth = fault.nth ?? 1;
    this.times = fault.times ?? 1;
  }

  /** Counts the call if it is for this fault's endpoint; true when the fault hits it. */
  offer(endpoint: FaultEndpoint): boolean {
    if (!this.endpoints.has('any') && !this.endpoints.has(endpoint)) return false;
    this.seen++;
    if (this.seen >= this.nth && this.seen < this.nth + this.times) {
      this.hits++;
      return true;
    }
    return false;
  }

  remove(): void {
    this.owner.remove(this);
  }
}

/** The simulator's fault list. */
export class FaultRegistry implements FaultController {
  private installed: Installed[] = [];

  constructor(initial: readonly Fault[] = []) {
    for (const f of initial) this.add(f);
  }

  add(fault: Fault): FaultHandle {
    validateFault(fault);
    const handle = new Installed(fault, this);
    this.installed.push(handle);
    return handle;
  }

  clear(): void {
    this.installed = [];
  }

  get active(): readonly FaultHandle[] {
    return [...this.installed];
  }

  remove(handle: FaultHandle): void {
    this.installed = this.installed.filter((h) => h !== handle);
  }

  /** Every fault that hits this call (each one counts it). */
  take(endpoint: FaultEndpoint): Fault[] {
    const hits: Fault[] = [];
    for (const handle of this.installed) if (handle.offer(endpoint)) hits.push(handle.fault);
    return hits;
  }
}

function validateFault(f: Fault): void {
  const problem = (msg: string): never => {
    throw new TypeError(`Invalid ${f.kind} fault: ${msg}`);
  };
  if (f.nth !== undefined && !(Number.isInteger(f.nth) && f.nth >= 1)) problem('nth must be an integer >= 1');
  if (
    f.times !== undefined &&
    !(f.times === Number.POSITIVE_INFINITY || (Number.isInteger(f.times) && f.times >= 1))
  )
    problem('times must be an integer >= 1 or Infinity');
  const endpoints =
    f.endpoint === undefined ? [] : typeof f.endpoint === 'string' ? [f.endpoint] : f.endpoint;
  if (isJobFault(f) && endpoints.some((e) => e !== 'submit' && e !== 'traffic-submit'))
    problem("endpoint must be 'submit' or 'traffic-submit'");
  switch (f.kind) {
    case 'respond':
      if (!(Number.isInteger(f.status) && f.status >= 100 && f.status <= 599))
        problem('status must be 100..599');
      break;
    case 'delay':
      if (!(f.ms >= 0)) problem('ms must be >= 0');
      break;
    case 'slow-body':
      if (!(f.bytesPerSecond > 0)) problem('bytesPerSecond must be > 0');
      break;
    case 'cut-body':
      if (!(Number.isInteger(f.afterBytes) && f.afterBytes >= 0))
        problem('afterBytes must be an integer >= 0');
      break;
    case 'location':
      if (f.mode === 'custom' && f.template === undefined) problem('custom mode needs a template');
      break;
    default:
      break;
  }
}
