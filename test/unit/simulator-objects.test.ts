/** Single-object GETs: every collection the simulator serves, by the object's own href. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault, type RunningSimulator, startSimulator } from '../../simulator';
import { call } from './simulator-helpers';

type Obj = Record<string, unknown> & { href: string };

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimulator({ clock: 'manual', dataset: { workloads: 300 } });
});
afterAll(() => sim.close());

const COLLECTIONS = [
  'labels',
  'workloads',
  'events',
  'sec_policy/draft/services',
  'sec_policy/active/services',
  'sec_policy/draft/ip_lists',
  'sec_policy/active/ip_lists',
  'sec_policy/draft/label_groups',
  'sec_policy/active/label_groups',
  'sec_policy/draft/rule_sets',
  'sec_policy/active/rule_sets',
];

function notFound(res: { status: number; json<T>(): T }): void {
  expect(res.status).toBe(404);
  expect(res.json()).toEqual([{ token: 'not_found', message: expect.any(String) }]);
}

describe('single-object GETs', () => {
  it.each(COLLECTIONS)('serves each object of %s at its href, as the collection has it', async (path) => {
    const list = (await call(sim, `/orgs/1/${path}?max_results=50`)).json<Obj[]>();
    expect(list.length).toBeGreaterThan(0);
    for (const object of [list[0], list[Math.floor(list.length / 2)], list.at(-1)]) {
      const res = await call(sim, object?.href ?? '');
      expect(res.status).toBe(200);
      expect(res.json()).toEqual(object);
    }
  });

  it('serves the rules of a rule set at their own href', async () => {
    const [ruleSet] = (await call(sim, '/orgs/1/sec_policy/active/rule_sets?max_results=1')).json<
      (Obj & { rules: Obj[] })[]
    >();
    for (const rule of ruleSet?.rules ?? []) expect((await call(sim, rule.href)).json()).toEqual(rule);
    expect(ruleSet?.rules.length).toBeGreaterThan(0);
  });

  it.each([
    '/orgs/1/labels/0',
    '/orgs/1/labels/9999',
    '/orgs/1/labels/abc1',
    '/orgs/1/workloads/00000000-0000-4000-8000-000000000000',
    '/orgs/1/workloads/12',
    '/orgs/1/sec_policy/draft/services/9999',
    '/orgs/1/sec_policy/draft/label_groups/7',
    '/orgs/1/sec_policy/draft/rule_sets/1/sec_rules/100',
    '/orgs/1/sec_policy/draft/rule_sets/9999/sec_rules/1',
    '/orgs/1/services/1',
    '/orgs/1/nothing/1',
  ])('answers 404 with the PCE error body for %s', async (href) => {
    notFound(await call(sim, href));
  });

  it('follows the revisions: a removed object is gone, an added one is there', async () => {
    sim.setRevision(1);
    try {
      for (const path of ['labels', 'workloads', 'sec_policy/draft/rule_sets']) {
        const c = sim.changes(0, 1)[path];
        for (const href of c?.removed ?? []) notFound(await call(sim, href));
        for (const href of c?.added ?? []) expect((await call(sim, href)).json<Obj>().href).toBe(href);
      }
    } finally {
      sim.setRevision(0);
    }
  });

  it("is the 'object' endpoint for faults", async () => {
    const [label] = (await call(sim, '/orgs/1/labels?max_results=1')).json<Obj[]>();
    sim.faults.add(fault.respond(500, { endpoint: 'object' }));
    expect((await call(sim, label?.href ?? '')).status).toBe(500);
    expect((await call(sim, label?.href ?? '')).status).toBe(200);
  });
});
