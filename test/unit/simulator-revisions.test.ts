/**
 * Data that changes between two exports: revisions add, remove and edit a deterministic set
 * of objects of every collection, and `sim.changes()` says exactly which hrefs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RevisionChanges, type RunningSimulator, startSimulator } from '../../simulator';
import { call, type JobJson } from './simulator-helpers';

type Obj = Record<string, unknown> & { href: string };

const PATHS = [
  'labels',
  'workloads',
  'sec_policy/draft/services',
  'sec_policy/active/services',
  'sec_policy/draft/ip_lists',
  'sec_policy/active/ip_lists',
  'sec_policy/draft/label_groups',
  'sec_policy/active/label_groups',
  'sec_policy/draft/rule_sets',
  'sec_policy/active/rule_sets',
];

const DATASET = { workloads: 600, labels: 40, services: 30, ipLists: 12, labelGroups: 8, ruleSets: 12 };

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', jobDurationMs: 0, dataset: DATASET });
});
afterAll(() => sim.close());

/** A whole collection through the async job API, as an export reads it. */
async function exportAll(s: RunningSimulator, path: string): Promise<Obj[]> {
  const submitted = await call(s, `/orgs/1/${path}`, { headers: { prefer: 'respond-async' } });
  const job = (await call(s, submitted.header('location') ?? '')).json<JobJson>();
  expect(job.status).toBe('done');
  return (await call(s, job.result.href ?? '')).json<Obj[]>();
}

async function snapshot(s: RunningSimulator): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const path of PATHS)
    out.set(path, new Map((await exportAll(s, path)).map((o) => [o.href, JSON.stringify(o)])));
  return out;
}

/** What a change-history export would compute from two exports. */
function diff(before: Map<string, string>, after: Map<string, string>) {
  const added = [...after.keys()].filter((h) => !before.has(h)).sort();
  const removed = [...before.keys()].filter((h) => !after.has(h)).sort();
  const changed = [...after.keys()].filter((h) => before.has(h) && before.get(h) !== after.get(h)).sort();
  return { added, removed, changed };
}

function sorted(changes: RevisionChanges, path: string) {
  const c = changes[path];
  return {
    added: [...(c?.added ?? [])].sort(),
    removed: [...(c?.removed ?? [])].sort(),
    changed: [...(c?.changed ?? [])].sort(),
  };
}

describe('revisions', () => {
  it('starts at revision 0, the data as generated', async () => {
    const plain = await startSimulator({ clock: 'manual', jobDurationMs: 0, dataset: DATASET });
    try {
      expect(sim.revision).toBe(0);
      expect(await exportAll(plain, 'workloads')).toEqual(await exportAll(sim, 'workloads'));
    } finally {
      await plain.close();
    }
  });

  it('adds, removes and edits objects of every collection in every revision', () => {
    for (const [from, to] of [
      [0, 1],
      [1, 2],
      [2, 3],
    ] as const) {
      const changes = sim.changes(from, to);
      expect(Object.keys(changes).sort()).toEqual([...PATHS].sort());
      for (const path of PATHS) {
        const c = changes[path];
        expect(c?.added.length, `${path} ${from}→${to} added`).toBeGreaterThan(0);
        expect(c?.removed.length, `${path} ${from}→${to} removed`).toBeGreaterThan(0);
        expect(c?.changed.length, `${path} ${from}→${to} changed`).toBeGreaterThan(0);
      }
    }
  });

  it('tells exactly which hrefs two exports differ by', async () => {
    const before = await snapshot(sim);
    sim.setRevision(1);
    try {
      const after = await snapshot(sim);
      const expected = sim.changes(0, 1);
      for (const path of PATHS)
        expect(diff(before.get(path) ?? new Map(), after.get(path) ?? new Map()), path).toEqual(
          sorted(expected, path),
        );
      sim.setRevision(3);
      const third = await snapshot(sim);
      const twoSteps = sim.changes(1, 3);
      for (const path of PATHS)
        expect(diff(after.get(path) ?? new Map(), third.get(path) ?? new Map()), path).toEqual(
          sorted(twoSteps, path),
        );
    } finally {
      sim.setRevision(0);
    }
  });

  it('comes back to the generated data at revision 0', async () => {
    const original = await exportAll(sim, 'sec_policy/draft/rule_sets');
    sim.setRevision(2);
    expect(await exportAll(sim, 'sec_policy/draft/rule_sets')).not.toEqual(original);
    sim.setRevision(0);
    expect(await exportAll(sim, 'sec_policy/draft/rule_sets')).toEqual(original);
  });

  it('unpairs, renames and relabels workloads, stamped with the revision time', async () => {
    const before = new Map((await exportAll(sim, 'workloads')).map((w) => [w.href, w]));
    await sim.clock.advance(60_000);
    sim.setRevision(3);
    try {
      const changedAt = new Date(sim.clock.now()).toISOString();
      const changed = new Set(sim.changes(0, 3).workloads?.changed);
      const after = (await exportAll(sim, 'workloads')).filter((w) => changed.has(w.href));
      const kinds = new Set<string>();
      for (const w of after) {
        const was = before.get(w.href);
        expect(w.updated_at).toBe(changedAt);
        if (was?.managed === true && w.managed === false) {
          expect(w.ven).toBeNull();
          kinds.add('unpaired');
        }
        if (was && w.name !== was.name) kinds.add('renamed');
        if (was && JSON.stringify(w.labels) !== JSON.stringify(was.labels)) kinds.add('relabelled');
        expect(w.hostname).toBe(was?.hostname);
      }
      expect([...kinds].sort()).toEqual(['relabelled', 'renamed', 'unpaired']);
    } finally {
      sim.setRevision(0);
    }
  });

  it('leaves no reference to a removed label or service', async () => {
    sim.setRevision(4);
    try {
      const labels = new Set((await exportAll(sim, 'labels')).map((l) => l.href));
      const services = new Set((await exportAll(sim, 'sec_policy/draft/services')).map((s) => s.href));
      const text = JSON.stringify([
        await exportAll(sim, 'workloads'),
        await exportAll(sim, 'sec_policy/draft/label_groups'),
        await exportAll(sim, 'sec_policy/draft/rule_sets'),
      ]);
      const labelRefs = new Set(text.match(/\/orgs\/1\/labels\/\d+/g));
      const serviceRefs = new Set(text.match(/\/orgs\/1\/sec_policy\/draft\/services\/\d+/g));
      expect(labelRefs.size).toBeGreaterThan(0);
      for (const href of labelRefs) expect(labels.has(href), href).toBe(true);
      for (const href of serviceRefs) expect(services.has(href), href).toBe(true);
      for (const href of sim.changes(0, 4).labels?.removed ?? []) expect(labelRefs.has(href)).toBe(false);
    } finally {
      sim.setRevision(0);
    }
  });

  it('filters and counts the revised data', async () => {
    sim.setRevision(3);
    try {
      const all = await exportAll(sim, 'workloads');
      const unmanaged = await call(sim, '/orgs/1/workloads?managed=false&max_results=1');
      expect(unmanaged.header('x-total-count')).toBe(String(all.filter((w) => w.managed === false).length));
      expect((await call(sim, '/orgs/1/workloads?max_results=1')).header('x-total-count')).toBe(
        String(all.length),
      );
    } finally {
      sim.setRevision(0);
    }
  });

  it('serves a job the revision it was submitted at', async () => {
    const submitted = await call(sim, '/orgs/1/labels', { headers: { prefer: 'respond-async' } });
    const original = await exportAll(sim, 'labels');
    sim.setRevision(1);
    try {
      const job = (await call(sim, submitted.header('location') ?? '')).json<JobJson>();
      expect((await call(sim, job.result.href ?? '')).json()).toEqual(original);
    } finally {
      sim.setRevision(0);
    }
  });

  it('is deterministic: the same seed and revision change the same objects the same way', async () => {
    const other = await startSimulator({ clock: 'manual', jobDurationMs: 0, dataset: DATASET, revision: 2 });
    sim.setRevision(2);
    try {
      expect(other.changes(0, 2)).toEqual(sim.changes(0, 2));
      const strip = (list: Obj[]) => list.map(({ created_at, updated_at, rules, ...rest }) => rest);
      expect(strip(await exportAll(other, 'sec_policy/draft/rule_sets'))).toEqual(
        strip(await exportAll(sim, 'sec_policy/draft/rule_sets')),
      );
    } finally {
      sim.setRevision(0);
      await other.close();
    }
  });

  it('dates revisions given at start an hour apart, the last an hour before the start', async () => {
    const other = await startSimulator({ clock: 'manual', jobDurationMs: 0, dataset: DATASET, revision: 2 });
    try {
      const start = other.clock.now();
      const byHref = new Map((await exportAll(other, 'labels')).map((l) => [l.href, l]));
      const [first] = other.changes(0, 1).labels?.added ?? [];
      const [second] = other.changes(1, 2).labels?.added ?? [];
      expect(byHref.get(first ?? '')?.created_at).toBe(new Date(start - 2 * 3_600_000).toISOString());
      expect(byHref.get(second ?? '')?.created_at).toBe(new Date(start - 3_600_000).toISOString());
    } finally {
      await other.close();
    }
  });
});

describe('control endpoint', () => {
  const control = (method: 'GET' | 'PUT' | 'POST', body?: string) =>
    fetch(`${sim.url}/_simulator/revision`, {
      method,
      headers: {
        authorization: `Basic ${Buffer.from(`${sim.credentials.apiKey}:${sim.credentials.apiSecret}`).toString('base64')}`,
      },
      ...(body === undefined ? {} : { body }),
    });

  it('reads, sets and steps the revision, with the counts of what changed', async () => {
    try {
      expect(await (await control('GET')).json()).toEqual({ revision: 0 });
      const put = await control('PUT', JSON.stringify({ revision: 2 }));
      expect(put.status).toBe(200);
      const answer = (await put.json()) as {
        revision: number;
        previous: number;
        changes: Record<string, unknown>;
      };
      expect(answer.revision).toBe(2);
      expect(answer.previous).toBe(0);
      const workloads = sim.changes(0, 2).workloads;
      expect(answer.changes.workloads).toEqual({
        added: workloads?.added.length,
        removed: workloads?.removed.length,
        changed: workloads?.changed.length,
      });
      expect(sim.revision).toBe(2);
      expect(((await (await control('POST')).json()) as { revision: number }).revision).toBe(3);
      expect(sim.revision).toBe(3);
    } finally {
      sim.setRevision(0);
    }
  });

  it('refuses a bad body, and answers only to the API key', async () => {
    expect((await control('PUT', '{"revision": -1}')).status).toBe(400);
    expect((await control('PUT', 'two')).status).toBe(400);
    const anonymous = await fetch(`${sim.url}/_simulator/revision`);
    expect(anonymous.status).toBe(401);
    expect(sim.revision).toBe(0);
  });

  it('answers through a maintenance window', async () => {
    const handle = sim.faults.add(fault.maintenance({ forMs: 60_000 }));
    try {
      expect((await call(sim, '/orgs/1/labels')).status).toBe(503);
      expect(await (await control('GET')).json()).toEqual({ revision: 0 });
    } finally {
      handle.remove();
    }
  });
});
