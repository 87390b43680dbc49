/**
 * What traffic flows need to know about the workloads at their ends (managed, Windows, labels,
 * address, the short JSON of a flow row), cached in typed arrays for data sets of up to two
 * million workloads and computed on demand beyond that.
 */
import type { OrgData } from './data';

const CACHED_WORKLOADS = 2_000_000;
const CACHED_REFS = 100_000;
const KNOWN = 1;
const MANAGED = 2;
const WINDOWS = 4;

export class WorkloadFacts {
  readonly count: number;
  /** Allocated on first use (a simulator that serves no traffic never needs them). */
  private flags?: Uint8Array;
  /** Four per workload, one per label key: the label index, or -1. */
  private slots?: Int16Array;
  private readonly cacheable: boolean;
  private readonly refs = new Map<number, string>();
  private readonly scratch = new Int16Array(4);

  constructor(private readonly data: OrgData) {
    this.count = data.sizes.workloads;
    this.cacheable = this.count <= CACHED_WORKLOADS && data.sizes.labels < 32_768;
  }

  /** The address of workload `i`'s primary interface (10.x.y.z). */
  ip(i: number): number {
    const subnet = Math.floor(i / 253);
    return ((10 << 24) | (((subnet >> 8) & 255) << 16) | ((subnet & 255) << 8) | ((i % 253) + 1)) >>> 0;
  }

  managed(i: number): boolean {
    return (this.load(i) & MANAGED) !== 0;
  }

  windows(i: number): boolean {
    return (this.load(i) & WINDOWS) !== 0;
  }

  hasLabel(i: number, label: number): boolean {
    if (!this.cacheable) return this.data.workloads.core(i).labels.includes(label);
    this.load(i);
    return this.slots?.[i * 4 + (label % 4)] === label;
  }

  /** The workload object a flow row carries, as JSON. */
  refText(i: number): string {
    let text = this.refs.get(i);
    if (text === undefined) {
      text = JSON.stringify(this.data.workloads.ref(i));
      if (this.refs.size >= CACHED_REFS) this.refs.clear();
      this.refs.set(i, text);
    }
    return text;
  }

  private load(i: number): number {
    if (this.cacheable && !this.flags) {
      this.flags = new Uint8Array(this.count);
      this.slots = new Int16Array(this.count * 4);
    }
    const cached = this.flags?.[i] ?? 0;
    if (cached !== 0) return cached;
    const core = this.data.workloads.core(i);
    const bits = KNOWN | (core.managed ? MANAGED : 0) | (this.data.workloads.isWindows(core) ? WINDOWS : 0);
    if (this.flags && this.slots) {
      this.scratch.fill(-1);
      for (const l of core.labels) this.scratch[l % 4] = l;
      this.slots.set(this.scratch, i * 4);
      this.flags[i] = bits;
    }
    return bits;
  }
}
