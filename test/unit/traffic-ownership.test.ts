import { describe, expect, it } from 'vitest';
import { firstDetected, flowKey, keyDigest, ownerTest } from '../../lambdas/export/traffic/ownership';

const START = '2026-03-01T00:00:00.000Z';
const MIDDLE = '2026-03-01T12:00:00.000Z';
const END = '2026-03-02T00:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);

type Run = Parameters<typeof ownerTest>[0];
const run: Run = { range: { start: START, end: END }, owns: { before: 'first-window' } };
const incremental: Run = { ...run, owns: { before: 'earlier-run' } };
const first = { start: START, end: MIDDLE, last: false };
const second = { start: MIDDLE, end: END, last: true };

describe('ownerTest', () => {
  const owners = (t: number, of = run) =>
    [first, second].filter((window) => ownerTest(of, window)(t) === 'own').map((w) => w.start);

  it('gives a flow that starts exactly on a boundary to the window that begins there', () => {
    expect(owners(ms(MIDDLE))).toEqual([MIDDLE]);
    expect(owners(ms(MIDDLE) - 1)).toEqual([START]);
    expect(owners(ms(START))).toEqual([START]);
  });

  it("gives a flow that starts at the run's end to the last window, whose end is included", () => {
    expect(owners(ms(END))).toEqual([MIDDLE]);
    expect(ownerTest(run, second)(ms(END) + 1)).toBe('otherWindow');
  });

  it('gives a flow that started before the range to the first window', () => {
    expect(owners(ms(START) - 30 * 60_000)).toEqual([START]);
    expect(ownerTest(run, second)(ms(START) - 1)).toBe('otherWindow');
  });

  it('leaves a flow that started before an incremental run to the runs before it', () => {
    expect(owners(ms(START) - 1, incremental)).toEqual([]);
    expect(ownerTest(incremental, first)(ms(START) - 1)).toBe('earlierRun');
    expect(owners(ms(START), incremental)).toEqual([START]);
  });

  it('gives a flow spanning several windows to the one that holds its first_detected only', () => {
    // first_detected 06:00, last_detected 18:00: both windows return it.
    expect(ownerTest(run, first)(ms('2026-03-01T06:00:00Z'))).toBe('own');
    expect(ownerTest(run, second)(ms('2026-03-01T06:00:00Z'))).toBe('otherWindow');
  });
});

describe('firstDetected', () => {
  it('reads timestamp_range.first_detected in milliseconds, whatever its precision', () => {
    expect(firstDetected({ timestamp_range: { first_detected: '2026-03-01T00:00:01Z' } })).toBe(
      ms(START) + 1000,
    );
    expect(firstDetected({ timestamp_range: { first_detected: '2026-03-01T00:00:00.123Z' } })).toBe(
      ms(START) + 123,
    );
  });

  it.each([{}, { timestamp_range: {} }, { timestamp_range: { first_detected: 'yesterday' } }, null, 'x'])(
    'is undefined for %j',
    (row) => {
      expect(firstDetected(row)).toBeUndefined();
    },
  );
});

describe('flowKey', () => {
  const flow = {
    src: { ip: '10.0.0.1', workload: { href: '/orgs/1/workloads/a' } },
    dst: { ip: '10.0.0.2' },
    service: { port: 443, proto: 6, process_name: 'nginx' },
    network: { href: '/orgs/1/networks/1' },
    num_connections: 3,
    policy_decision: 'allowed',
    timestamp_range: { first_detected: START, last_detected: MIDDLE },
  };

  it('stays the same as the aggregate grows and its decision is recomputed', () => {
    const later = {
      ...flow,
      num_connections: 300,
      policy_decision: 'blocked',
      timestamp_range: { first_detected: START, last_detected: END },
    };

    expect(flowKey(later, ms(START))).toBe(flowKey(flow, ms(START)));
  });

  it.each([
    ['source address', { src: { ip: '10.0.0.9' } }],
    ['destination address', { dst: { ip: '10.0.0.9' } }],
    ['port', { service: { ...flow.service, port: 8443 } }],
    ['protocol', { service: { ...flow.service, proto: 17 } }],
    ['process', { service: { ...flow.service, process_name: 'httpd' } }],
    ['Windows service', { service: { ...flow.service, windows_service_name: 'W3SVC' } }],
    ['ICMP type', { icmp_type: 8 }],
    ['network', { network: { href: '/orgs/1/networks/2' } }],
  ])('tells flows apart by their %s', (_what, change) => {
    expect(flowKey({ ...flow, ...change }, ms(START))).not.toBe(flowKey(flow, ms(START)));
  });

  it('tells flows apart by when they started', () => {
    expect(flowKey(flow, ms(START) + 1)).not.toBe(flowKey(flow, ms(START)));
  });

  it('digests a key to 16 hex digits, always the same for the same key', () => {
    const key = flowKey(flow, ms(START));

    expect(keyDigest(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyDigest(key)).toBe(keyDigest(flowKey({ ...flow }, ms(START))));
    expect(keyDigest(key)).not.toBe(keyDigest(flowKey(flow, ms(END))));
  });
});
