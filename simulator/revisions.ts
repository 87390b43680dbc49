/**
 * Data that changes between two exports. Revision 0 is the generated data set; each revision
 * after it adds, removes and edits a deterministic set of objects of every collection, and
 * revisions accumulate: revision 3 is revision 2 changed once more.
 *
 * Per revision and collection of `n` generated objects: `max(1, n/100)` objects are added
 * (after the generated ones), `max(1, n/200)` removed and `max(1, n/100)` edited. The removed
 * and edited objects are taken in turn from a fixed permutation of the generated ones, so no
 * object is removed or edited twice and the choice costs nothing to compute; once every
 * generated object has had its turn, revisions only add. A removed label or service also
 * leaves the objects that referred to it (workloads, label groups, rules), which count as
 * changed in that revision. Objects changed in a revision carry its time as `updated_at`.
 */
import { hash } from './random';

/** The collections revisions change (draft and active policy change alike). */
export const CHANGE_KINDS = [
  'labels',
  'workloads',
  'services',
  'ip_lists',
  'label_groups',
  'rule_sets',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Generated objects never removed or edited: All Services and the Any IP list. */
const PROTECTED_FIRST: Readonly<Record<ChangeKind, number>> = {
  labels: 0,
  workloads: 0,
  services: 1,
  ip_lists: 1,
  label_groups: 0,
  rule_sets: 0,
};

const SALT: Readonly<Record<ChangeKind, number>> = {
  labels: 0x7e1,
  workloads: 0x7e2,
  services: 0x7e3,
  ip_lists: 0x7e4,
  label_groups: 0x7e5,
  rule_sets: 0x7e6,
};

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}

/** (a * b) mod n, exact for any safe integers. */
function mulMod(a: number, b: number, n: number): number {
  const p = a * b;
  if (Number.isSafeInteger(p)) return p % n;
  return Number((BigInt(a) * BigInt(b)) % BigInt(n));
}

/** The modular inverse of `a` mod `n` (a and n coprime). */
function inverse(a: number, n: number): number {
  let [t, newT, r, newR] = [0, 1, n, a];
  while (newR !== 0) {
    const q = Math.floor(r / newR);
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  return ((t % n) + n) % n;
}

/** How revisions change one collection of `base` generated objects. */
class ChangePlan {
  readonly add: number;
  readonly remove: number;
  readonly edit: number;
  private readonly first: number;
  private readonly n: number;
  private readonly a: number;
  private readonly aInverse: number;
  private readonly c: number;

  constructor(
    readonly base: number,
    kind: ChangeKind,
    seedHash: number,
  ) {
    this.first = Math.min(base, PROTECTED_FIRST[kind]);
    this.n = base - this.first;
    const some = (share: number) => (base === 0 ? 0 : Math.max(1, Math.round(base * share)));
    this.add = some(0.01);
    this.remove = this.n === 0 ? 0 : some(0.005);
    this.edit = this.n === 0 ? 0 : some(0.01);
    const h = hash(seedHash, SALT[kind]);
    let a = this.n <= 1 ? 1 : (h % this.n) | 1;
    while (this.n > 1 && gcd(a, this.n) !== 1) a = (a + 2) % this.n || 1;
    this.a = a;
    this.aInverse = this.n <= 1 ? 1 : inverse(a, this.n);
    this.c = this.n <= 1 ? 0 : hash(h, 1) % this.n;
  }

  /** Generated object at permutation position `j`. */
  private at(j: number): number {
    return this.first + ((mulMod(this.a, j, this.n) + this.c) % this.n);
  }

  /** Permutation position of generated object `i`, or -1 when it is protected. */
  private position(i: number): number {
    if (i < this.first || i >= this.base || this.n === 0) return -1;
    return mulMod(this.aInverse, (i - this.first - this.c + this.n) % this.n, this.n);
  }

  private turn(i: number): { revision: number; removed: boolean } | undefined {
    const j = this.position(i);
    const block = this.remove + this.edit;
    if (j < 0 || block === 0) return undefined;
    return { revision: Math.floor(j / block) + 1, removed: j % block < this.remove };
  }

  /** The revision that removes generated object `i` (0: none does). */
  removedIn(i: number): number {
    const t = this.turn(i);
    return t?.removed ? t.revision : 0;
  }

  /** The revision that edits generated object `i` (0: none does). */
  editedIn(i: number): number {
    const t = this.turn(i);
    return t && !t.removed ? t.revision : 0;
  }

  /** The revision that added object `i` (0: a generated one). */
  addedIn(i: number): number {
    return i < this.base || this.add === 0 ? 0 : Math.floor((i - this.base) / this.add) + 1;
  }

  /** Objects (generated and added) at revision `r`: indexes below this. */
  sizeAt(r: number): number {
    return this.base + r * this.add;
  }

  /** Whether object `i` exists at revision `r`. */
  existsAt(i: number, r: number): boolean {
    if (i >= this.base) return i < this.sizeAt(r);
    const removed = this.removedIn(i);
    return removed === 0 || removed > r;
  }

  /** Generated objects removed (`removed`) or edited in revision `k`, in turn order. */
  touchedBy(k: number, removed: boolean): number[] {
    const block = this.remove + this.edit;
    const out: number[] = [];
    const from = (k - 1) * block + (removed ? 0 : this.remove);
    const count = removed ? this.remove : this.edit;
    for (let j = from; j < from + count && j < this.n; j++) out.push(this.at(j));
    return out;
  }
}

/** When each revision happened (simulated epoch ms), shared by every view of the data. */
export class RevisionLog {
  private times: number[] = [];

  constructor(
    initial: number,
    now: number,
    private readonly spacingMs = 3_600_000,
  ) {
    // Revisions given at start happened in the past, an hour apart, the last an hour ago.
    for (let k = 1; k <= initial; k++) this.times[k] = now - (initial - k + 1) * this.spacingMs;
  }

  get revision(): number {
    return Math.max(0, this.times.length - 1);
  }

  /** Moves to revision `r`: revisions past the current one happen now; going back forgets the later ones. */
  set(r: number, now: number): void {
    if (r < this.revision) this.times.length = r + 1;
    for (let k = this.revision + 1; k <= r; k++) this.times[k] = now;
    if (r === 0) this.times = [];
  }

  time(k: number): number {
    return this.times[k] ?? 0;
  }
}

/** One org's data as of revision `revision`: the plans of every collection, and when each revision happened. */
export class RevisionView {
  private readonly plans = new Map<ChangeKind, ChangePlan>();

  constructor(
    readonly revision: number,
    private readonly log: Pick<RevisionLog, 'time'>,
    private readonly seedHash: number,
    private readonly sizes: Readonly<Record<ChangeKind, number>>,
  ) {}

  plan(kind: ChangeKind): ChangePlan {
    let plan = this.plans.get(kind);
    if (!plan) {
      plan = new ChangePlan(this.sizes[kind], kind, this.seedHash);
      this.plans.set(kind, plan);
    }
    return plan;
  }

  /** When revision `k` happened. */
  time(k: number): number {
    return this.log.time(k);
  }

  /** The revision (≤ this one) that removed object `i` of `kind`, or 0. */
  removal(kind: ChangeKind, i: number): number {
    if (this.revision === 0) return 0;
    const k = this.plan(kind).removedIn(i);
    return k !== 0 && k <= this.revision ? k : 0;
  }

  /** The revision (≤ this one) that edited object `i` of `kind`, or 0. */
  edit(kind: ChangeKind, i: number): number {
    if (this.revision === 0) return 0;
    const k = this.plan(kind).editedIn(i);
    return k !== 0 && k <= this.revision ? k : 0;
  }
}
