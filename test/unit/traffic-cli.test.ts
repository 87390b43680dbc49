import { describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../cli/errors';
import { RUN_USAGE } from '../../cli/run';
import { parseRunArgs } from '../../cli/run-args';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const BASE = ['--pce-url', 'https://pce.example.com:8443', '--org', '1'];

function usageError(argv: string[]): string {
  try {
    parseRunArgs([...BASE, ...argv]);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('pce-export run --traffic', () => {
  it('runs the last 24 hours of every decision when no traffic option is given', () => {
    const args = parseRunArgs([...BASE, '--traffic']);

    expect(args).not.toBe('help');
    expect(args !== 'help' && args.input.value).toEqual({ kind: 'traffic', traffic: {} });
  });

  it('turns the traffic flags into the traffic input', () => {
    const args = parseRunArgs([
      ...BASE,
      '--traffic',
      '--since',
      '7d',
      '--policy-decision',
      'blocked',
      '--policy-decision',
      'potentially_blocked',
      '--max-results',
      '50000',
      '--source',
      '/orgs/1/labels/7',
      '--source',
      '/orgs/1/labels/3, /orgs/1/labels/9',
      '--exclude-source',
      '10.0.0.0/8',
      '--destination',
      '/orgs/1/sec_policy/active/ip_lists/2',
      '--exclude-destination',
      '192.168.1.1',
      '--export-name',
      'blocked-flows',
      '--format',
      'raw',
    ]);

    expect(args !== 'help' && args.input.value).toEqual({
      kind: 'traffic',
      exportName: 'blocked-flows',
      format: 'raw',
      traffic: {
        since: '7d',
        policyDecisions: ['blocked', 'potentially_blocked'],
        maxResults: 50_000,
        sources: {
          include: ['/orgs/1/labels/7', ['/orgs/1/labels/3', '/orgs/1/labels/9']],
          exclude: ['10.0.0.0/8'],
        },
        destinations: { include: ['/orgs/1/sec_policy/active/ip_lists/2'], exclude: ['192.168.1.1'] },
      },
    });
  });

  it('takes an absolute range', () => {
    const args = parseRunArgs([
      ...BASE,
      '--traffic',
      '--start',
      '2026-03-01T00:00:00Z',
      '--end',
      '2026-03-02',
    ]);

    expect(args !== 'help' && args.input.value).toEqual({
      kind: 'traffic',
      traffic: { start: '2026-03-01T00:00:00Z', end: '2026-03-02' },
    });
  });

  it.each([
    [['--traffic', '--path', '/labels'], '--path does not go with --traffic'],
    [['--traffic', '--query', 'a=b'], '--query does not go with --traffic'],
    [['--path', '/labels', '--since', '24h'], '--since goes with --traffic'],
    [['--path', '/labels', '--policy-decision', 'blocked'], '--policy-decision goes with --traffic'],
    [['--traffic', '--max-results', 'lots'], '--max-results must be a number, not "lots"'],
    [['--traffic', '--max-results', '200001'], '--max-results must be at most 200000'],
    [
      ['--traffic', '--policy-decision', 'denied'],
      '--policy-decision must be one of allowed, potentially_blocked',
    ],
    [['--traffic', '--since', 'yesterday'], '--since must be a duration such as "24h"'],
    [
      ['--traffic', '--since', '24h', '--start', '2026-03-01T00:00:00Z'],
      '--since cannot be combined with --start or --end',
    ],
    [['--traffic', '--end', '2026-03-01T00:00:00Z'], '--end needs --start'],
    [
      ['--traffic', '--start', '2026-03-02T00:00:00Z', '--end', '2026-03-01T00:00:00Z'],
      '--end must be after --start',
    ],
    [
      ['--traffic', '--source', 'production'],
      '--source must be a label, label group, workload or IP list href',
    ],
    [['--traffic', '--exclude-destination', '/orgs/1/labels/x'], '--exclude-destination must be'],
  ])('rejects %j with a message naming the flag', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });

  it('documents every traffic flag in the usage text', () => {
    for (const flag of [
      '--traffic',
      '--since',
      '--start',
      '--end',
      '--policy-decision',
      '--max-results',
      '--source',
      '--destination',
      '--exclude-source',
      '--exclude-destination',
      '--service',
      '--exclude-service',
      '--transmission',
      '--draft-policy',
      '--ip-lists-include-workloads',
      '--max-queries',
      '--allow-partial',
    ]) {
      expect(RUN_USAGE).toContain(flag);
    }
  });

  it('turns the service, transmission, draft policy, IP list and splitting flags into the traffic input', () => {
    const args = parseRunArgs([
      ...BASE,
      '--traffic',
      '--source',
      'env=prod',
      '--service',
      'tcp/443',
      '--service',
      'udp/8000-8999',
      '--service',
      'icmp',
      '--service',
      'proto=47',
      '--service',
      '3389',
      '--service',
      'tcp/445+process=smbd',
      '--exclude-service',
      'windows-service=W3SVC',
      '--transmission',
      'unicast',
      '--transmission',
      'multicast',
      '--draft-policy',
      '--ip-lists-include-workloads',
      '--max-queries',
      '40',
      '--allow-partial',
    ]);

    expect(args !== 'help' && args.input.value).toEqual({
      kind: 'traffic',
      traffic: {
        sources: { include: ['env=prod'] },
        services: {
          include: [
            { proto: 'tcp', port: 443 },
            { proto: 'udp', port: 8000, toPort: 8999 },
            { proto: 'icmp' },
            { proto: 47 },
            { port: 3389 },
            { proto: 'tcp', port: 445, processName: 'smbd' },
          ],
          exclude: [{ windowsServiceName: 'W3SVC' }],
        },
        transmission: ['unicast', 'multicast'],
        draftPolicy: true,
        excludeWorkloadsFromIpListQuery: false,
        maxQueries: 40,
        allowPartial: true,
      },
    });
  });

  it.each([
    [['--traffic', '--service', 'tcp/'], '--service must be PROTO/PORT'],
    [['--traffic', '--service', 'https'], '--service must be PROTO/PORT'],
    [['--traffic', '--service', 'tcp/443+udp'], '--service "tcp/443+udp" gives proto twice'],
    [['--traffic', '--exclude-service', ''], '--exclude-service must be PROTO/PORT'],
    [['--traffic', '--service', 'tcp/70000'], '--service'],
    [['--traffic', '--service', 'tcp/90-80'], '--service'],
    [['--traffic', '--transmission', 'anycast'], '--transmission'],
    [['--traffic', '--max-queries', '0'], '--max-queries'],
    [['--traffic', '--max-queries', '1001'], '--max-queries'],
    [['--allow-partial'], '--allow-partial goes with --traffic'],
    [['--draft-policy', '--path', '/labels'], '--draft-policy goes with --traffic'],
  ])('rejects %j with a message naming the flag', (argv, message) => {
    expect(usageError(argv)).toContain(message);
  });
});
