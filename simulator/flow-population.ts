/**
 * A fixed population of Explorer flows over time, generated on the fly. Regular flow `n` sits in
 * the `n`-th slot of a grid of `flowsPerDay` slots a day counted from a fixed origin, so the flows
 * of any time are the same whatever the population's span or the simulator's start; the slots a
 * query window can touch are found arithmetically, then generated and tested one by one. A burst
 * adds many flows inside one short interval. Nothing is stored.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { iso } from './basis';
import type { OrgData } from './data';
import { WorkloadFacts } from './flow-endpoints';
import type { CompiledFilters } from './flow-filters';
import {
  APP_PORT,
  BROADCAST_SERVICES,
  type FlowService,
  ICMP,
  MULTICAST_SERVICES,
  UNICAST_SERVICES,
} from './flow-services';
import { formatIpv4, type Ipv4Range, ipListRanges, parseIpv4 } from './ipv4';
import { at, hash, hash4, Rng } from './random';
import { POLICY_DECISIONS } from './traffic';

const DAY_MS = 86_400_000;
/** Slot 0 starts here; every regular flow's time is a function of its slot alone. */
const ORIGIN = Date.UTC(2020, 0, 1);
/** Longest `last_detected - first_detected` of a regular flow. */
const MAX_DURATION_MS = 30 * 60_000;
const BURST_MAX_DURATION_MS = 2_000;
/** Burst flow `j` comes from 100.64.0.0 + j (a distinct source for each). */
const BURST_SOURCES = parseIpv4('100.64.0.0') ?? 0;
const INTERNET = ['192.0.2.0', '198.51.100.0', '203.0.113.0'].map((a) => parseIpv4(a) ?? 0);
const TWO_32 = 4_294_967_296;
const STATES = ['active', 'closed', 'closed', 'timed out', 'snapshot'] as const;
const SMB: FlowService = UNICAST_SERVICES.find((s) => s.port === 445) ?? { port: 445, proto: 6, ...APP_PORT };
/** Index of `blocked` in POLICY_DECISIONS. */
const BLOCKED = 2;

export const TRANSMISSIONS = ['unicast', 'broadcast', 'multicast'] as const;

export interface PopulationSettings {
  readonly flowsPerDay: number;
  readonly days: number;
  /** Fixed end of the population (epoch ms); otherwise each query's creation time. */
  readonly until?: number;
  readonly burst?: {
    readonly at: number;
    readonly flows: number;
    readonly seconds: number;
    /** All one decision, protocol and port (no split by them gets under the cap). */
    readonly uniform: boolean;
  };
}

/** The attributes a flow is filtered on; one object is refilled for every candidate. */
export interface FlowCore {
  first: number;
  last: number;
  /** Index into TRANSMISSIONS. */
  transmission: number;
  /** Workload index, or -1 for an address that is no workload. */
  srcWl: number;
  srcIp: number;
  dstWl: number;
  dstIp: number;
  /** -1 for ICMP. */
  port: number;
  proto: number;
  /** What the destination runs there; undefined for ICMP. */
  process: Omit<FlowService, 'port' | 'proto'> | undefined;
  /** Index into POLICY_DECISIONS. */
  decision: number;
  draft: number;
  /** Seed of the attributes nothing filters on. */
  h: number;
}

export function newCore(): FlowCore {
  return {
    first: 0,
    last: 0,
    transmission: 0,
    srcWl: -1,
    srcIp: 0,
    dstWl: -1,
    dstIp: 0,
    port: -1,
    proto: 0,
    process: undefined,
    decision: 0,
    draft: 0,
    h: 0,
  };
}

/** The candidates of one query window: regular slots `lo..lo+count-1`, then burst flows. */
export interface FlowWindow {
  readonly start: number;
  readonly end: number;
  readonly popStart: number;
  readonly popEnd: number;
  readonly lo: number;
  readonly count: number;
  readonly burstLo: number;
  readonly burstCount: number;
}

/** A step coprime with `n`, near n/φ, so that stepping through 0..n-1 jumps around in time. */
function strideFor(n: number): number {
  if (n <= 2) return 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  let step = Math.max(1, Math.floor(n * 0.618_033_988_7));
  while (gcd(step, n) !== 1) step++;
  return step;
}

export class FlowPopulation {
  readonly facts: WorkloadFacts;
  private readonly scope: number;
  private readonly spacing: number;
  private readonly pools: readonly Ipv4Range[];
  private readonly rng = new Rng(0);
  private readonly networkHref: string;

  constructor(
    data: OrgData,
    seed: number,
    private readonly settings: PopulationSettings,
  ) {
    this.facts = new WorkloadFacts(data);
    this.scope = hash(seed, data.org, 0xf10e);
    this.spacing = DAY_MS / settings.flowsPerDay;
    this.networkHref = data.networkHref;
    const pools: Ipv4Range[] = [];
    for (let i = 1; i < data.sizes.ipLists; i++)
      pools.push(...ipListRanges(data.policy.ipListRanges(i)).included);
    this.pools = pools;
  }

  /** The candidates a window [start, end] (inclusive) can hold, for a population ending at `popEnd`. */
  window(start: number, end: number, createdAt: number): FlowWindow {
    const popEnd = this.settings.until ?? createdAt;
    const popStart = popEnd - this.settings.days * DAY_MS;
    const s = this.spacing;
    const first = Math.ceil((popStart - ORIGIN) / s);
    const last = Math.floor((popEnd - ORIGIN) / s) - 1;
    const hi = Math.min(last, Math.floor((end - ORIGIN) / s) + 1);
    const lo = Math.max(first, Math.floor((start - MAX_DURATION_MS - ORIGIN) / s) - 1);
    let burstLo = 0;
    let burstCount = 0;
    const burst = this.settings.burst;
    if (burst) {
      const per = (burst.seconds * 1000) / burst.flows;
      const bhi = Math.min(burst.flows - 1, Math.floor((end - burst.at) / per));
      burstLo = Math.max(0, Math.floor((start - BURST_MAX_DURATION_MS - burst.at) / per) - 1);
      burstCount = Math.max(0, bhi - burstLo + 1);
    }
    return { start, end, popStart, popEnd, lo, count: Math.max(0, hi - lo + 1), burstLo, burstCount };
  }

  /**
   * Fills `c` with candidate `k` of the window; false when that flow does not touch the window.
   * Unless `full`, only the times and decisions are filled in.
   */
  candidate(w: FlowWindow, k: number, c: FlowCore, full = true): boolean {
    return k < w.count
      ? this.regular(w, w.lo + k, c, full)
      : this.burstFlow(w, w.burstLo + k - w.count, c, full);
  }

  /** Candidate indexes in an order that is deterministic but not by time. */
  *order(w: FlowWindow): Generator<number> {
    const n = w.count + w.burstCount;
    const step = strideFor(n);
    let k = 0;
    for (let i = 0; i < n; i++) {
      yield k;
      k += step;
      if (k >= n) k -= n;
    }
  }

  /**
   * How many candidates the filters accept, counted in slices that leave the event loop free.
   * Filters on nothing but decisions need only the times and decisions of each flow.
   */
  async count(w: FlowWindow, filters: CompiledFilters, cancelled: () => boolean): Promise<number> {
    const c = newCore();
    const n = w.count + w.burstCount;
    const full = !filters.decisionsOnly;
    const { matches } = filters;
    let found = 0;
    for (let k = 0; k < n; ) {
      const sliceEnd = Math.min(n, k + 100_000);
      for (; k < sliceEnd; k++) if (this.candidate(w, k, c, full) && matches(c)) found++;
      if (k < n) {
        await nextTurn();
        if (cancelled()) return found;
      }
    }
    return found;
  }

  /** The process a managed destination reports, if any. */
  processOf(c: FlowCore): string | undefined {
    if (c.process === undefined || c.dstWl < 0 || !this.facts.managed(c.dstWl)) return undefined;
    return this.facts.windows(c.dstWl) ? c.process.windows : c.process.linux;
  }

  windowsServiceOf(c: FlowCore): string | undefined {
    if (c.process === undefined || c.dstWl < 0 || !this.facts.managed(c.dstWl)) return undefined;
    return this.facts.windows(c.dstWl) ? c.process.windowsService : undefined;
  }

  /** The flow as the PCE's JSON row; `draft` adds `draft_policy_decision`. */
  row(c: FlowCore, draft: boolean): string {
    const rng = this.rng.reseed(c.h);
    const connections = rng.chance(0.7) ? rng.between(1, 20) : rng.between(21, 5000);
    const state = rng.pick(STATES);
    const bytesIn = connections * rng.between(200, 60_000);
    const bytesOut = connections * rng.between(200, 400_000);
    let service: string;
    if (c.proto === ICMP) service = `{"proto":${ICMP}},"icmp_type":8,"icmp_code":0`;
    else {
      const process = this.processOf(c);
      const windowsService = this.windowsServiceOf(c);
      service =
        `{"port":${c.port},"proto":${c.proto}` +
        (process === undefined ? '' : `,"process_name":${JSON.stringify(process)}`) +
        (windowsService === undefined ? '' : `,"windows_service_name":${JSON.stringify(windowsService)}`) +
        '}';
    }
    return (
      `{"src":${this.endpoint(c.srcWl, c.srcIp)},"dst":${this.endpoint(c.dstWl, c.dstIp)},` +
      `"service":${service},"num_connections":${connections},"state":"${state}",` +
      `"timestamp_range":{"first_detected":"${iso(c.first)}","last_detected":"${iso(c.last)}"},` +
      `"dst_bi":${bytesIn},"dst_bo":${bytesOut},"policy_decision":"${at(POLICY_DECISIONS, c.decision)}",` +
      (draft ? `"draft_policy_decision":"${at(POLICY_DECISIONS, c.draft)}",` : '') +
      `"flow_direction":"${c.dstWl >= 0 ? 'inbound' : 'outbound'}",` +
      `"transmission":"${at(TRANSMISSIONS, c.transmission)}",` +
      `"network":{"href":"${this.networkHref}","name":"Corporate"}}`
    );
  }

  private endpoint(wl: number, ip: number): string {
    return wl >= 0
      ? `{"ip":"${formatIpv4(ip)}","workload":${this.facts.refText(wl)}}`
      : `{"ip":"${formatIpv4(ip)}"}`;
  }

  private regular(w: FlowWindow, n: number, c: FlowCore, full: boolean): boolean {
    const h = hash4(this.scope, n % TWO_32, Math.floor(n / TWO_32), 1);
    const rng = this.rng.reseed(h);
    // A whole millisecond of the slot's own: no two regular flows share a first_detected.
    const from = Math.floor(n * this.spacing);
    c.first = ORIGIN + from + Math.floor((h / TWO_32) * (Math.floor((n + 1) * this.spacing) - from));
    const r = rng.next();
    const duration =
      r < 0.6 ? rng.int(60_000) : r < 0.9 ? 60_000 + rng.int(540_000) : 600_000 + rng.int(1_200_000);
    c.last = Math.min(c.first + duration, w.popEnd);
    if (c.first > w.end || c.last < w.start) return false;
    const d = rng.next();
    this.decide(c, rng, d < 0.55 ? 0 : d < 0.8 ? 1 : d < 0.95 ? BLOCKED : 3);
    if (!full) return true;
    this.endpoints(c, rng);
    c.h = rng.u32();
    return true;
  }

  private burstFlow(w: FlowWindow, j: number, c: FlowCore, full: boolean): boolean {
    const burst = this.settings.burst;
    if (!burst) return false;
    const span = burst.seconds * 1000;
    const h = hash4(this.scope, j, 0, 2);
    const rng = this.rng.reseed(h);
    c.first = burst.at + Math.floor(((j + h / TWO_32) * span) / burst.flows);
    c.last = Math.min(c.first + rng.int(BURST_MAX_DURATION_MS), burst.at + span - 1, w.popEnd);
    if (c.first > w.end || c.last < w.start || c.first < w.popStart || c.first > w.popEnd) return false;
    this.decide(c, rng, burst.uniform ? BLOCKED : rng.int(POLICY_DECISIONS.length));
    if (!full) return true;
    const workloads = this.facts.count;
    c.transmission = 0;
    c.srcWl = -1;
    c.srcIp = (BURST_SOURCES + (j % 4_194_304)) >>> 0;
    c.dstWl = workloads > 0 ? rng.int(workloads) : -1;
    c.dstIp = c.dstWl >= 0 ? this.facts.ip(c.dstWl) : this.external(rng);
    if (burst.uniform) this.setService(c, SMB);
    else {
      const p = rng.next();
      c.proto = p < 0.55 ? 6 : p < 0.95 ? 17 : ICMP;
      c.port = c.proto === ICMP ? -1 : 1 + rng.int(65_535);
      c.process = c.proto === ICMP ? undefined : APP_PORT;
    }
    c.h = rng.u32();
    return true;
  }

  /** Sources, destinations and service of a regular flow. */
  private endpoints(c: FlowCore, rng: Rng): void {
    const workloads = this.facts.count;
    const t = rng.next();
    c.transmission = workloads === 0 || t < 0.96 ? 0 : t < 0.98 ? 1 : 2;
    if (c.transmission !== 0) {
      c.srcWl = rng.int(workloads);
      c.srcIp = this.facts.ip(c.srcWl);
      c.dstWl = -1;
      const services = c.transmission === 1 ? BROADCAST_SERVICES : MULTICAST_SERVICES;
      const service = rng.pick(services);
      this.setService(c, service);
      c.dstIp =
        c.transmission === 1
          ? rng.chance(0.7)
            ? (c.srcIp | 0xff) >>> 0
            : 0xffff_ffff
          : (parseIpv4(service.group ?? '') ?? 0);
      return;
    }
    const srcExternal = workloads === 0 || rng.chance(0.25);
    c.srcWl = srcExternal ? -1 : rng.int(workloads);
    c.srcIp = srcExternal ? this.external(rng) : this.facts.ip(c.srcWl);
    const dstExternal = workloads === 0 || (!srcExternal && rng.chance(0.2));
    if (dstExternal) {
      c.dstWl = -1;
      c.dstIp = this.external(rng);
    } else {
      let dst = rng.int(workloads);
      if (dst === c.srcWl && workloads > 1) dst = (dst + 1) % workloads;
      c.dstWl = dst;
      c.dstIp = this.facts.ip(dst);
    }
    const s = rng.next();
    if (s < 0.7) this.setService(c, rng.pick(UNICAST_SERVICES));
    else if (s < 0.97) {
      c.port = 1024 + rng.int(64_512);
      c.proto = rng.chance(0.85) ? 6 : 17;
      c.process = APP_PORT;
    } else {
      c.port = -1;
      c.proto = ICMP;
      c.process = undefined;
    }
  }

  private setService(c: FlowCore, service: FlowService): void {
    c.port = service.port;
    c.proto = service.proto;
    c.process = service;
  }

  /** Sets the policy decision, and the draft decision that pending rules would give. */
  private decide(c: FlowCore, rng: Rng, decision: number): void {
    c.decision = decision;
    const d = rng.next();
    if (c.decision === 1) c.draft = d < 0.4 ? 0 : 1;
    else if (c.decision === 0) c.draft = d < 0.03 ? 2 : 0;
    else if (c.decision === 2) c.draft = d < 0.1 ? 0 : 2;
    else c.draft = 3;
  }

  /** An address outside the workloads: in an IP list's range a bit more than half the time. */
  private external(rng: Rng): number {
    if (this.pools.length > 0 && rng.chance(0.55)) {
      const pool = rng.pick(this.pools);
      return (pool.from + rng.int(pool.to - pool.from + 1)) >>> 0;
    }
    return (rng.pick(INTERNET) + 1 + rng.int(254)) >>> 0;
  }
}
