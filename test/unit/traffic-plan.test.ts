import { describe, expect, it } from 'vitest';
import type { TrafficRequest } from '../../lambdas/contracts/traffic';
import type { WindowSpec } from '../../lambdas/contracts/traffic-run';
import { ownerTest } from '../../lambdas/export/traffic/ownership';
import {
  describeWindow,
  isTruncated,
  MIN_SLICE_MS,
  splitWindow,
  windowRequest,
  windowServices,
} from '../../lambdas/export/traffic/plan';

const START = '2026-03-01T00:00:00.000Z';
const END = '2026-03-02T00:00:00.000Z';

const request = (extra: Partial<TrafficRequest> = {}): TrafficRequest => ({
  startDate: START,
  endDate: END,
  policyDecisions: [],
  maxResults: 200_000,
  sources: { include: [], exclude: [] },
  destinations: { include: [], exclude: [] },
  ...extra,
});

const root: WindowSpec = { id: 0, start: START, end: END, last: true };

function minute(at: string, seconds = 90): WindowSpec {
  return { id: 7, start: at, end: new Date(Date.parse(at) + seconds * 1000).toISOString(), last: false };
}

describe('isTruncated', () => {
  it.each([
    [{ flowsCount: 200_000, matchesCount: 450_000 }, true],
    [{ flowsCount: 1_000, matchesCount: 1_200 }, true],
    [{ flowsCount: 200_000, matchesCount: 200_000 }, true],
    [{ flowsCount: 200_000 }, true],
    [{ flowsCount: 199_999, matchesCount: 199_999 }, false],
    [{ flowsCount: 0, matchesCount: 0 }, false],
    [{}, false],
  ])('calls %j truncated: %s (max_results 200000)', (counts, truncated) => {
    expect(isTruncated(counts, 200_000)).toBe(truncated);
  });
});

describe('splitWindow in time', () => {
  it('cuts 450,000 matches into ceil(450000 / 160000) = 3 equal, contiguous slices, the last one last', () => {
    const split = splitWindow({
      window: root,
      counts: { flowsCount: 200_000, matchesCount: 450_000 },
      request: request(),
    });

    expect(split.parts?.map((p) => [p.start, p.end, p.last])).toEqual([
      ['2026-03-01T00:00:00.000Z', '2026-03-01T08:00:00.000Z', false],
      ['2026-03-01T08:00:00.000Z', '2026-03-01T16:00:00.000Z', false],
      ['2026-03-01T16:00:00.000Z', '2026-03-02T00:00:00.000Z', true],
    ]);
    expect(split.parts?.every((p) => p.parent === 0 && p.parentMatches === 450_000)).toBe(true);
  });

  it('makes at least two slices, and two when the PCE gave no counts', () => {
    const barely = splitWindow({
      window: root,
      counts: { flowsCount: 200_000, matchesCount: 200_001 },
      request: request(),
    });
    const uncounted = splitWindow({ window: root, counts: { flowsCount: 200_000 }, request: request() });

    expect(barely.parts).toHaveLength(2);
    expect(uncounted.parts).toHaveLength(2);
  });

  it('cuts a slice that kept most of its parent sixteen ways: the flows are bunched', () => {
    const slice = { ...root, id: 3, parent: 0, parentMatches: 230_000 };

    const split = splitWindow({
      window: slice,
      counts: { flowsCount: 200_000, matchesCount: 220_000 },
      request: request(),
    });

    expect(split.parts).toHaveLength(16);
  });

  it('never cuts a slice shorter than a minute', () => {
    const window = minute('2026-03-01T12:00:00.000Z', 150);

    const split = splitWindow({
      window,
      counts: { flowsCount: 200_000, matchesCount: 5_000_000 },
      request: request(),
    });

    expect(split.parts).toHaveLength(2);
    for (const part of split.parts ?? []) {
      expect(Date.parse(part.end) - Date.parse(part.start)).toBeGreaterThanOrEqual(MIN_SLICE_MS);
    }
  });

  it('keeps the decision, protocol and ports a window already has', () => {
    const window: WindowSpec = { ...root, decision: 'blocked', protocol: 'tcp', ports: [0, 1023] };

    const split = splitWindow({
      window,
      counts: { flowsCount: 10, matchesCount: 20 },
      request: request({ maxResults: 10 }),
    });

    expect(
      split.parts?.every((p) => p.decision === 'blocked' && p.protocol === 'tcp' && p.ports?.[1] === 1023),
    ).toBe(true);
  });
});

describe('splitWindow past the shortest slice', () => {
  const counts = { flowsCount: 200_000, matchesCount: 210_000 };

  it('splits by each decision the query asks for', () => {
    const every = splitWindow({ window: minute(START), counts, request: request() });
    const two = splitWindow({
      window: minute(START),
      counts,
      request: request({ policyDecisions: ['blocked', 'allowed'] }),
    });

    expect(every).toMatchObject({ by: 'decision' });
    expect(every.parts?.map((p) => p.decision)).toEqual([
      'allowed',
      'potentially_blocked',
      'blocked',
      'unknown',
    ]);
    expect(two.parts?.map((p) => p.decision)).toEqual(['blocked', 'allowed']);
    expect(every.parts?.every((p) => p.start === START && p.parent === 7)).toBe(true);
  });

  it('goes on to protocols when the query asks for one decision only', () => {
    const split = splitWindow({
      window: minute(START),
      counts,
      request: request({ policyDecisions: ['blocked'] }),
    });

    expect(split).toMatchObject({ by: 'protocol' });
    expect(split.parts?.map((p) => [p.decision, p.protocol])).toEqual([
      ['blocked', 'tcp'],
      ['blocked', 'udp'],
      ['blocked', 'other'],
    ]);
  });

  it('halves the port range of TCP and UDP, down to one port', () => {
    const tcp = { ...minute(START), decision: 'blocked' as const, protocol: 'tcp' as const };
    const first = splitWindow({ window: tcp, counts, request: request() });
    const last = splitWindow({ window: { ...tcp, ports: [445, 446] }, counts, request: request() });
    const single = splitWindow({ window: { ...tcp, ports: [445, 445] }, counts, request: request() });

    expect(first.parts?.map((p) => p.ports)).toEqual([
      [0, 32_767],
      [32_768, 65_535],
    ]);
    expect(last.parts?.map((p) => p.ports)).toEqual([
      [445, 445],
      [446, 446],
    ]);
    expect(single.parts).toBeUndefined();
    expect(single).toMatchObject({ reason: expect.stringContaining('one port') });
  });

  it('cannot split the protocols other than TCP and UDP by port', () => {
    const split = splitWindow({
      window: { ...minute(START), decision: 'allowed', protocol: 'other' },
      counts,
      request: request(),
    });

    expect(split.parts).toBeUndefined();
  });

  it("skips the parts the user's services rule out, and a split left with one part", () => {
    const onlyHttps = request({
      policyDecisions: ['blocked'],
      services: { include: [{ port: 443, proto: 6 }], exclude: [] },
    });
    const webPorts = request({
      policyDecisions: ['blocked'],
      services: { include: [{ port: 80, toPort: 8080, proto: 6 }], exclude: [] },
    });

    const https = splitWindow({ window: minute(START), counts, request: onlyHttps });
    const web = splitWindow({ window: minute(START), counts, request: webPorts });

    expect(https.parts).toBeUndefined();
    expect(web).toMatchObject({ by: 'ports' });
    // UDP and the other protocols are ruled out, and so is every half the ports 80-8080 miss.
    expect(web.parts?.map((p) => [p.protocol, p.ports])).toEqual([
      ['tcp', [0, 4095]],
      ['tcp', [4096, 8191]],
    ]);
  });
});

describe('windowServices', () => {
  it("narrows the user's services to the window's protocol and ports", () => {
    const services = {
      include: [{ port: 8000, toPort: 9000, proto: 6 }, { processName: 'nginx' }, { port: 53, proto: 17 }],
      exclude: [{ port: 8443 }],
    };

    expect(windowServices(services, { protocol: 'tcp', ports: [8500, 65_535] })).toEqual({
      include: [
        { port: 8500, toPort: 9000, proto: 6 },
        { processName: 'nginx', proto: 6, port: 8500, toPort: 65_535 },
      ],
      exclude: [{ port: 8443 }],
    });
  });

  it('asks for the protocol alone when the user gave no services', () => {
    expect(windowServices(undefined, { protocol: 'udp' })).toEqual({ include: [{ proto: 17 }], exclude: [] });
    expect(windowServices(undefined, { protocol: 'tcp', ports: [7, 7] })).toEqual({
      include: [{ proto: 6, port: 7 }],
      exclude: [],
    });
  });

  it('takes every other protocol by excluding TCP and UDP', () => {
    expect(
      windowServices({ include: [{ proto: 1 }, { port: 22, proto: 6 }], exclude: [] }, { protocol: 'other' }),
    ).toEqual({
      include: [{ proto: 1 }],
      exclude: [{ proto: 6 }, { proto: 17 }],
    });
  });

  it('finds nothing to match when every include entry contradicts the window', () => {
    expect(
      windowServices({ include: [{ port: 22, proto: 6 }], exclude: [] }, { protocol: 'udp' }),
    ).toBeUndefined();
    expect(
      windowServices(
        { include: [{ port: 22, proto: 6 }], exclude: [] },
        { protocol: 'tcp', ports: [23, 100] },
      ),
    ).toBeUndefined();
    expect(windowServices({ include: [{ proto: 17 }], exclude: [] }, { protocol: 'other' })).toBeUndefined();
  });
});

describe('windowRequest', () => {
  it("is the run's request with the window's range, decision and services", () => {
    const window: WindowSpec = { ...minute(START), decision: 'unknown', protocol: 'udp' };

    expect(windowRequest(request({ queryName: 'q' }), window)).toEqual({
      ...request({ queryName: 'q' }),
      startDate: window.start,
      endDate: window.end,
      policyDecisions: ['unknown'],
      services: { include: [{ proto: 17 }], exclude: [] },
    });
    expect(windowRequest(request(), root)).toEqual(request());
  });
});

describe('describeWindow', () => {
  it('names the range and every dimension', () => {
    expect(
      describeWindow({ ...minute(START), decision: 'blocked', protocol: 'tcp', ports: [445, 445] }),
    ).toBe('2026-03-01T00:00:00.000Z..2026-03-01T00:01:30.000Z, blocked, TCP, port 445');
  });
});

/** A flow as the split sees it: when it started, its decision, protocol and port. */
interface Flow {
  readonly first: number;
  readonly decision: string;
  readonly proto: number;
  readonly port: number;
}

function inWindow(flow: Flow, window: Omit<WindowSpec, 'id'>): boolean {
  if (window.decision !== undefined && flow.decision !== window.decision) return false;
  if (window.protocol === 'tcp' && flow.proto !== 6) return false;
  if (window.protocol === 'udp' && flow.proto !== 17) return false;
  if (window.protocol === 'other' && (flow.proto === 6 || flow.proto === 17)) return false;
  if (window.ports && (flow.port < window.ports[0] || flow.port > window.ports[1])) return false;
  return true;
}

describe('a split partitions its window', () => {
  const runEnd = '2026-03-01T00:03:00.000Z';
  const run = { range: { start: START, end: runEnd }, owns: { before: 'first-window' as const } };
  const decisions = ['allowed', 'potentially_blocked', 'blocked', 'unknown'];
  const flows: Flow[] = Array.from({ length: 6000 }, (_, i) => ({
    // From a minute before the range to its end, some exactly on a boundary.
    first: Date.parse(START) - 60_000 + (i % 7 === 0 ? 90_000 * (i % 3) : (i * 7_919) % 240_001),
    decision: decisions[i % 4] as string,
    proto: [6, 17, 1][i % 3] as number,
    port: (i * 31) % 65_536,
  }));

  it('gives every flow of the range exactly one owner among the parts of the splits', () => {
    const window: WindowSpec = { id: 0, start: START, end: runEnd, last: true };
    const counts = { flowsCount: 200_000, matchesCount: 300_000 };
    const time = splitWindow({ window, counts, request: request() }).parts ?? [];
    const [first, second] = time.map((p, i) => ({ ...p, id: 1 + i }));
    if (!first || !second) throw new Error('expected two slices of 90 seconds');
    const byDecision = (splitWindow({ window: first, counts, request: request() }).parts ?? []).map(
      (p, i) => ({
        ...p,
        id: 10 + i,
      }),
    );
    const blocked = byDecision.find((p) => p.decision === 'blocked');
    if (!blocked) throw new Error('expected a blocked part');
    const byProtocol = (splitWindow({ window: blocked, counts, request: request() }).parts ?? []).map(
      (p, i) => ({
        ...p,
        id: 20 + i,
      }),
    );
    const tcp = byProtocol.find((p) => p.protocol === 'tcp');
    if (!tcp) throw new Error('expected a TCP part');
    const byPort = (splitWindow({ window: tcp, counts, request: request() }).parts ?? []).map((p, i) => ({
      ...p,
      id: 30 + i,
    }));
    const leaves = [
      second,
      ...byDecision.filter((p) => p !== blocked),
      ...byProtocol.filter((p) => p !== tcp),
      ...byPort,
    ];

    expect(leaves.map((w) => w.id)).toEqual([2, 10, 11, 13, 21, 22, 30, 31]);
    for (const flow of flows) {
      const owners = leaves.filter((w) => inWindow(flow, w) && ownerTest(run, w)(flow.first) === 'own');
      expect(owners.map((w) => w.id)).toHaveLength(1);
    }
  });
});
