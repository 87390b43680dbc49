import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSimulator, startSimulator } from '../../simulator';
import { call } from './simulator-helpers';
import {
  completed,
  download,
  type Flow,
  flows,
  inCidr,
  ipNumber,
  keys,
  post,
  query,
} from './simulator-traffic-helpers';

/**
 * Each filter is checked against the unfiltered flows of the same window: the query must return
 * exactly the flows that the filter, applied here to the rows' own fields, keeps.
 */
const START = '2026-06-01T00:00:00Z';
const END = '2026-06-02T00:00:00Z';

interface IpList {
  href: string;
  ip_ranges: { from_ip: string; to_ip?: string; exclusion: boolean }[];
}
interface LabelGroup {
  href: string;
  labels: { href: string }[];
}

let sim: RunningSimulator;
let all: Flow[];
let ipLists: IpList[];
let labelGroups: LabelGroup[];

beforeAll(async () => {
  sim = await startSimulator({
    jobDurationMs: 10,
    dataset: { workloads: 300, labels: 40, ipLists: 12, labelGroups: 8 },
    traffic: { flowsPerDay: 3000, days: 5, until: '2026-06-03T00:00:00Z' },
  });
  all = await flows(sim, query(START, END));
  ipLists = (await call(sim, '/orgs/1/sec_policy/draft/ip_lists')).json<IpList[]>();
  labelGroups = (await call(sim, '/orgs/1/sec_policy/draft/label_groups')).json<LabelGroup[]>();
});
afterAll(() => sim.close());

const labelsOf = (end: Flow['src']) => end.workload?.labels.map((l) => l.href) ?? [];
const has = (end: Flow['src'], label: string) => labelsOf(end).includes(label);

function inList(list: IpList, ip: string): boolean {
  const n = ipNumber(ip);
  const covers = (r: IpList['ip_ranges'][number]) =>
    r.from_ip.includes(':')
      ? false
      : r.to_ip === undefined
        ? inCidr(ip, r.from_ip)
        : n >= ipNumber(r.from_ip) && n <= ipNumber(r.to_ip);
  return (
    list.ip_ranges.some((r) => !r.exclusion && covers(r)) &&
    !list.ip_ranges.some((r) => r.exclusion && covers(r))
  );
}

/** The most frequent value among the flows, for filters that must select something. */
function mostCommon(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const [top] = [...counts].sort((a, b) => b[1] - a[1]);
  if (!top) throw new Error('nothing to choose from');
  return top[0];
}

/** The query returns exactly the flows `keep` keeps, and counts them as its matches. */
async function expectFilter(extra: Record<string, unknown>, keep: (f: Flow) => boolean): Promise<void> {
  const expected = all.filter(keep);
  const done = await completed(sim, query(START, END, extra));
  const got = await download(sim, done);
  expect(expected.length).toBeGreaterThan(0);
  expect(expected.length).toBeLessThan(all.length);
  expect(keys(got)).toEqual(keys(expected));
  expect(got).toHaveLength(expected.length);
  expect(done.matches_count).toBe(expected.length);
}

describe('traffic query filters: sources and destinations', () => {
  it('includes the flows from a label', async () => {
    const label = mostCommon(all.flatMap((f) => labelsOf(f.src)));
    await expectFilter({ sources: { include: [[{ label: { href: label } }]], exclude: [] } }, (f) =>
      has(f.src, label),
    );
  });

  it('ANDs the actors of one include entry and ORs the entries', async () => {
    const pair = all.find((f) => labelsOf(f.src).length >= 2);
    const [a = '', b = ''] = pair ? labelsOf(pair.src) : [];
    const c = mostCommon(all.flatMap((f) => labelsOf(f.src)).filter((l) => l !== a && l !== b));
    const and = [{ label: { href: a } }, { label: { href: b } }];

    await expectFilter({ sources: { include: [and], exclude: [] } }, (f) => has(f.src, a) && has(f.src, b));
    await expectFilter(
      { sources: { include: [and, [{ label: { href: c } }]], exclude: [] } },
      (f) => (has(f.src, a) && has(f.src, b)) || has(f.src, c),
    );
  });

  it('includes the flows to a workload, and to a label group through any of its labels', async () => {
    const workload = mostCommon(all.flatMap((f) => (f.dst.workload ? [f.dst.workload.href] : [])));
    await expectFilter(
      { destinations: { include: [[{ workload: { href: workload } }]], exclude: [] } },
      (f) => f.dst.workload?.href === workload,
    );
    const group = labelGroups.find((g) => all.some((f) => g.labels.some((l) => has(f.dst, l.href))));
    if (!group) throw new Error('no label group with flows');
    await expectFilter(
      { destinations: { include: [[{ label_group: { href: group.href } }]], exclude: [] } },
      (f) => group.labels.some((l) => has(f.dst, l.href)),
    );
  });

  it('includes the addresses of an IP list, leaving workloads out unless told otherwise', async () => {
    const counted = ipLists
      .slice(1)
      .map((list) => ({ list, n: all.filter((f) => inList(list, f.src.ip)).length }))
      .sort((x, y) => y.n - x.n);
    const list = counted[0]?.list;
    if (!list) throw new Error('no IP list');
    const any = ipLists[0];
    if (!any) throw new Error('no Any IP list');

    await expectFilter(
      { sources: { include: [[{ ip_list: { href: list.href } }]], exclude: [] } },
      (f) => !f.src.workload && inList(list, f.src.ip),
    );
    await expectFilter(
      { sources: { include: [[{ ip_list: { href: any.href } }]], exclude: [] } },
      (f) => !f.src.workload,
    );
    const everything = await flows(
      sim,
      query(START, END, {
        sources: { include: [[{ ip_list: { href: any.href } }]], exclude: [] },
        exclude_workloads_from_ip_list_query: false,
      }),
    );
    expect(keys(everything)).toEqual(keys(all));
  });

  it('matches IP addresses and CIDR blocks, in either form', async () => {
    const ip = mostCommon(all.map((f) => f.src.ip));
    await expectFilter({ sources: { include: [[{ ip_address: ip }]], exclude: [] } }, (f) => f.src.ip === ip);
    await expectFilter(
      { sources: { include: [[{ ip_address: { value: ip } }]], exclude: [] } },
      (f) => f.src.ip === ip,
    );
    await expectFilter({ destinations: { include: [[{ ip_address: '10.0.0.0/8' }]], exclude: [] } }, (f) =>
      inCidr(f.dst.ip, '10.0.0.0/8'),
    );
  });

  it('drops the flows that any exclude entry matches, on either side', async () => {
    const label = mostCommon(all.flatMap((f) => labelsOf(f.src)));
    const other = mostCommon(all.flatMap((f) => labelsOf(f.dst)).filter((l) => l !== label));
    await expectFilter(
      { sources: { include: [], exclude: [{ label: { href: label } }] } },
      (f) => !has(f.src, label),
    );
    await expectFilter(
      {
        sources: { include: [[{ label: { href: label } }]], exclude: [] },
        destinations: { include: [], exclude: [{ ip_address: '10.0.0.0/8' }, { label: { href: other } }] },
      },
      (f) => has(f.src, label) && !inCidr(f.dst.ip, '10.0.0.0/8') && !has(f.dst, other),
    );
  });

  it('joins sources and destinations with AND by default and with OR when asked', async () => {
    const a = mostCommon(all.flatMap((f) => labelsOf(f.src)));
    const b = mostCommon(all.flatMap((f) => labelsOf(f.dst)).filter((l) => l !== a));
    const filter = {
      sources: { include: [[{ label: { href: a } }]], exclude: [] },
      destinations: { include: [[{ label: { href: b } }]], exclude: [] },
    };
    await expectFilter(filter, (f) => has(f.src, a) && has(f.dst, b));
    await expectFilter(
      { ...filter, sources_destinations_query_op: 'or' },
      (f) => has(f.src, a) || has(f.dst, b),
    );
    await expectFilter(
      {
        sources: filter.sources,
        destinations: { include: [[]], exclude: [] },
        sources_destinations_query_op: 'or',
      },
      (f) => has(f.src, a),
    );
  });

  it('selects managed workloads with actors "ams"', async () => {
    await expectFilter(
      { sources: { include: [[{ actors: 'ams' }]], exclude: [] } },
      (f) => f.src.workload?.managed === true,
    );
  });

  it('filters on transmission in destinations', async () => {
    await expectFilter(
      { destinations: { include: [[{ transmission: 'broadcast' }]], exclude: [] } },
      (f) => f.transmission === 'broadcast',
    );
    await expectFilter(
      {
        destinations: {
          include: [],
          exclude: [{ transmission: 'broadcast' }, { transmission: 'multicast' }],
        },
      },
      (f) => f.transmission === 'unicast',
    );
  });
});

describe('traffic query filters: services and policy decisions', () => {
  const services = (include: unknown[], exclude: unknown[] = []) => ({ services: { include, exclude } });

  it('matches a port and protocol, a protocol, and a port range', async () => {
    await expectFilter(
      services([{ port: 443, proto: 6 }]),
      (f) => f.service.port === 443 && f.service.proto === 6,
    );
    await expectFilter(services([{ proto: 17 }]), (f) => f.service.proto === 17);
    await expectFilter(
      services([{ port: 1024, to_port: 65_535, proto: 6 }]),
      (f) => f.service.proto === 6 && (f.service.port ?? 0) >= 1024,
    );
    await expectFilter(
      services([{ port: 53, proto: 17 }, { proto: 1 }]),
      (f) => (f.service.port === 53 && f.service.proto === 17) || f.service.proto === 1,
    );
  });

  it('matches the process and the Windows service the destination reports', async () => {
    await expectFilter(services([{ process_name: 'nginx' }]), (f) => f.service.process_name === 'nginx');
    await expectFilter(
      services([{ windows_service_name: 'W3SVC' }]),
      (f) => f.service.windows_service_name === 'W3SVC',
    );
  });

  it('excludes services', async () => {
    await expectFilter(
      services(
        [{ proto: 6 }],
        [
          { port: 443, proto: 6 },
          { port: 80, to_port: 80, proto: 6 },
        ],
      ),
      (f) => f.service.proto === 6 && f.service.port !== 443 && f.service.port !== 80,
    );
  });

  it('keeps only the policy decisions asked for', async () => {
    await expectFilter({ policy_decisions: ['blocked', 'unknown'] }, (f) =>
      ['blocked', 'unknown'].includes(f.policy_decision),
    );
  });

  it('combines every kind of filter', async () => {
    const label = mostCommon(all.flatMap((f) => labelsOf(f.dst)));
    await expectFilter(
      {
        policy_decisions: ['allowed', 'potentially_blocked'],
        destinations: { include: [[{ label: { href: label } }]], exclude: [{ transmission: 'broadcast' }] },
        sources: { include: [], exclude: [{ ip_address: '198.51.100.0/24' }] },
        ...services([{ proto: 6 }], [{ port: 22, proto: 6 }]),
      },
      (f) =>
        ['allowed', 'potentially_blocked'].includes(f.policy_decision) &&
        has(f.dst, label) &&
        f.transmission !== 'broadcast' &&
        !inCidr(f.src.ip, '198.51.100.0/24') &&
        f.service.proto === 6 &&
        f.service.port !== 22,
    );
  });
});

describe('invalid traffic filters', () => {
  const actor = (a: unknown) => ({ sources: { include: [[a]], exclude: [] } });
  it.each([
    [
      'a label that does not exist',
      actor({ label: { href: '/orgs/1/labels/9999' } }),
      /labels\/9999 is no label/,
    ],
    ['a label of another org', actor({ label: { href: '/orgs/2/labels/1' } }), /is no label of org 1/],
    ['an unknown workload', actor({ workload: { href: '/orgs/1/workloads/not-a-uuid' } }), /is no workload/],
    [
      'an IP list out of range',
      actor({ ip_list: { href: '/orgs/1/sec_policy/draft/ip_lists/99' } }),
      /is no ip list/,
    ],
    [
      'a label group that does not exist',
      actor({ label_group: { href: '/orgs/1/sec_policy/draft/label_groups/x' } }),
      /is no label group/,
    ],
    ['a malformed address', actor({ ip_address: '10.0.0.300' }), /ip_address must be an IP address/],
    [
      'an actor with two kinds',
      actor({ label: { href: '/orgs/1/labels/1' }, ip_address: '10.0.0.1' }),
      /exactly one of/,
    ],
    ['an unknown actor', actor({ fqdn: 'example.com' }), /unknown actor "fqdn"/],
    ['actors other than ams', actor({ actors: 'all' }), /actors must be "ams"/],
    [
      'transmission in sources',
      actor({ transmission: 'broadcast' }),
      /transmission filters belong in destinations/,
    ],
    [
      'an unknown transmission',
      { destinations: { include: [], exclude: [{ transmission: 'anycast' }] } },
      /transmission must be one of/,
    ],
    [
      'a label without an href',
      actor({ label: { key: 'env', value: 'Production' } }),
      /label must be an object with an href/,
    ],
    [
      'an include that is not a list of lists',
      { sources: { include: [{ label: { href: '/orgs/1/labels/1' } }], exclude: [] } },
      /array of arrays/,
    ],
    [
      'a port out of range',
      { services: { include: [{ port: 70_000, proto: 6 }], exclude: [] } },
      /services.include\[0\].port/,
    ],
    [
      'a range that ends before it starts',
      { services: { include: [{ port: 900, to_port: 800, proto: 6 }], exclude: [] } },
      /to_port must be an integer from port/,
    ],
    [
      'a range without a start',
      { services: { include: [], exclude: [{ to_port: 800, proto: 6 }] } },
      /services.exclude\[0\].to_port needs a port/,
    ],
    [
      'an unknown service field',
      { services: { include: [{ port: 443, protocol: 6 }], exclude: [] } },
      /protocol is not a service filter field/,
    ],
    [
      'an empty service entry',
      { services: { include: [{}], exclude: [] } },
      /must give port, proto, process_name/,
    ],
    [
      'an empty process name',
      { services: { include: [{ process_name: '' }], exclude: [] } },
      /process_name must be a non-empty string/,
    ],
    ['an unknown operator', { sources_destinations_query_op: 'xor' }, /sources_destinations_query_op/],
    [
      'a non-boolean IP list toggle',
      { exclude_workloads_from_ip_list_query: 'yes' },
      /exclude_workloads_from_ip_list_query/,
    ],
  ])('rejects %s with 406 and names it', async (_name, extra, message) => {
    const res = await post(sim, query(START, END, extra));

    expect(res.status).toBe(406);
    const body = res.json<{ token: string; message: string }[]>();
    expect(body).toHaveLength(1);
    expect(body[0]?.token).toBe('input_validation_error');
    expect(body[0]?.message).toMatch(message);
  });

  it('rejects a body that is not JSON with 400, and creates no query for a rejected one', async () => {
    const before = sim.trafficQueries().length;
    const res = await post(sim, '{"query_name": "x", ');

    expect(res.status).toBe(400);
    expect(res.json<{ token: string }[]>()[0]?.token).toBe('invalid_request_body');
    await post(sim, query(START, END, actor({ actors: 'all' })));
    expect(sim.trafficQueries()).toHaveLength(before);
  });
});
