/**
 * Scriptable misbehaviour. A fault selects calls to one endpoint (or several, or `'any'`)
 * and changes what the simulator does with them. Calls are counted per fault, from the
 * moment it was added: `nth: 3, times: 2` hits the 3rd and 4th matching calls. A fault with
 * a `window` instead hits every matching call while its window is open, on the simulator's
 * clock: from the start, from when it was added, or from the nth call to some endpoint.
 *
 * Several faults may hit the same call; they compose (a `retry-after` and a `location`
 * fault both change the same 202). `respond`, `reset` and the kinds that make up an answer
 * (outage, maintenance, throttle, huge-error, deep-json) end the call: of the body faults, only
 * those that change how an answer travels (header case, framing, gzip, slow and cut bodies)
 * still apply to them. Job faults act at submit time on the job they create.
 *
 * ```ts
 * sim.faults.add(fault.respond(503, { endpoint: 'job', times: 2 }));
 * sim.faults.add(fault.outage({ forMs: 45_000 }, { endpoint: 'job' }));
 * sim.faults.add(fault.cutBody(10_000, { endpoint: 'datafile' }));
 * ```
 */

import type { Clock } from './clock';
import type { Fault, FaultEndpoint, FaultKind, JobFault } from './fault-kinds';
import { isJobKind, validateFault } from './fault-validate';

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
  outage: 'any',
  maintenance: 'any',
  refuse: 'any',
  throttle: 'any',
  'header-case': 'any',
  framing: 'datafile',
  gzip: 'any',
  'deep-json': 'job',
  'huge-error': 'any',
  'control-chars': 'job',
  'stall-body': 'datafile',
  'status-case': 'submit',
  'extra-fields': 'submit',
  'job-phases': 'submit',
  'job-href': 'submit',
};

/**
 * Where a fault acts: `front` faults before authentication and rate limiting (the PCE's front
 * end answering while the application is down), `app` faults after them.
 */
type FaultStage = 'front' | 'app';

const FRONT_KINDS: ReadonlySet<FaultKind> = new Set(['outage', 'maintenance', 'refuse']);

export function isJobFault(f: Fault): f is JobFault {
  return isJobKind(f.kind);
}

/** A fault once added: how often it has hit, its window, and a way to take it out. */
export interface FaultHandle {
  readonly fault: Fault;
  /** Matching calls seen since it was added. */
  readonly seen: number;
  /** Calls it changed. */
  readonly hits: number;
  /**
   * When its window opens and closes (simulated epoch ms, `closesAt` exclusive); undefined
   * without a window, or until the request that starts it has arrived.
   */
  readonly opensAt?: number;
  readonly closesAt?: number;
  remove(): void;
}

export interface FaultController {
  /** Adds a fault; it counts calls from now. Throws a TypeError naming the field of an invalid one. */
  add(fault: Fault): FaultHandle;
  /** Removes every fault. */
  clear(): void;
  /** Faults currently installed, in the order added. */
  readonly active: readonly FaultHandle[];
}

function endpointSet(ep: FaultEndpoint | readonly FaultEndpoint[]): ReadonlySet<FaultEndpoint> {
  return new Set(typeof ep === 'string' ? [ep] : ep);
}

function matches(set: ReadonlySet<FaultEndpoint>, endpoint: FaultEndpoint): boolean {
  return set.has('any') || set.has(endpoint);
}

class Installed implements FaultHandle {
  seen = 0;
  hits = 0;
  opensAt?: number;
  closesAt?: number;
  readonly stage: FaultStage;
  private readonly endpoints: ReadonlySet<FaultEndpoint>;
  private readonly triggers?: ReadonlySet<FaultEndpoint>;
  private triggerSeen = 0;
  private readonly nth: number;
  private readonly times: number;

  constructor(
    readonly fault: Fault,
    private readonly owner: FaultRegistry,
    addedAt: number,
    startedAt: number,
  ) {
    this.endpoints = endpointSet(fault.endpoint ?? DEFAULT_ENDPOINT[fault.kind]);
    this.nth = fault.nth ?? 1;
    this.times = fault.times ?? 1;
    this.stage = FRONT_KINDS.has(fault.kind) ? 'front' : 'app';
    const from = fault.window?.from ?? 'now';
    if (typeof from === 'object') this.triggers = endpointSet(from.request);
    else if (fault.window) this.open(from === 'start' ? startedAt : addedAt);
  }

  private open(base: number): void {
    const w = this.fault.window;
    if (!w) return;
    this.opensAt = base + (w.afterMs ?? 0);
    this.closesAt = this.opensAt + w.forMs;
  }

  isOpen(now: number): boolean {
    return (
      this.opensAt !== undefined && this.closesAt !== undefined && now >= this.opensAt && now < this.closesAt
    );
  }

  /** Counts the call if it is for this fault's endpoint; true when the fault hits it. */
  offer(endpoint: FaultEndpoint, now: number): boolean {
    const from = this.fault.window?.from;
    if (this.triggers && this.opensAt === undefined && matches(this.triggers, endpoint)) {
      this.triggerSeen++;
      if (typeof from === 'object' && this.triggerSeen === (from.nth ?? 1)) {
        this.open(now);
        this.owner.windowSet(this);
      }
    }
    if (!matches(this.endpoints, endpoint)) return false;
    this.seen++;
    const hit = this.fault.window
      ? this.isOpen(now)
      : this.seen >= this.nth && this.seen < this.nth + this.times;
    if (hit) this.hits++;
    return hit;
  }

  remove(): void {
    this.owner.remove(this);
  }
}

/** What the registry needs from the simulator: its clock, and the listener for `refuse`. */
interface RegistryHost {
  readonly clock: Clock;
  /** When the simulator started (the origin of `window.from: 'start'`). */
  readonly startedAt: number;
  /** Stop or resume accepting connections. */
  setAccepting(accepting: boolean): Promise<void>;
}

/** The simulator's fault list. */
export class FaultRegistry implements FaultController {
  private installed: Installed[] = [];
  private readonly timers = new Map<Installed, (() => void)[]>();

  constructor(
    private readonly host: RegistryHost,
    initial: readonly Fault[] = [],
  ) {
    for (const f of initial) this.add(f);
  }

  add(fault: Fault): FaultHandle {
    validateFault(fault);
    const handle = new Installed(fault, this, this.host.clock.now(), this.host.startedAt);
    this.installed.push(handle);
    if (handle.opensAt !== undefined) this.windowSet(handle);
    return handle;
  }

  clear(): void {
    for (const handle of [...this.installed]) this.remove(handle);
  }

  get active(): readonly FaultHandle[] {
    return [...this.installed];
  }

  remove(handle: FaultHandle): void {
    this.installed = this.installed.filter((h) => h !== handle);
    for (const cancel of this.timers.get(handle as Installed) ?? []) cancel();
    this.timers.delete(handle as Installed);
    if (handle.fault.kind === 'refuse') this.syncListener();
  }

  /** A window now has its times: a `refuse` window stops and resumes the listener on time. */
  windowSet(handle: Installed): void {
    if (handle.fault.kind !== 'refuse' || handle.opensAt === undefined || handle.closesAt === undefined)
      return;
    const cancels = [this.host.clock.at(handle.opensAt, () => this.syncListener())];
    if (Number.isFinite(handle.closesAt))
      cancels.push(this.host.clock.at(handle.closesAt, () => this.syncListener()));
    this.timers.set(handle, cancels);
  }

  /** Whether a `refuse` window is open now. */
  refusing(): boolean {
    const now = this.host.clock.now();
    return this.installed.some((h) => h.fault.kind === 'refuse' && h.isOpen(now));
  }

  private syncListener(): Promise<void> {
    return this.host.setAccepting(!this.refusing());
  }

  /** Every fault of this stage that hits this call (each one counts it). */
  take(endpoint: FaultEndpoint, stage: FaultStage): Fault[] {
    const now = this.host.clock.now();
    const hits: Fault[] = [];
    for (const handle of this.installed)
      if (handle.stage === stage && handle.offer(endpoint, now)) hits.push(handle.fault);
    return hits;
  }
}
