import { describe, expect, it } from 'vitest';
import type { WorkflowState } from '../../lambdas/contracts/state';
import { parseSince, type TrafficRequest } from '../../lambdas/contracts/traffic';
import { parseExportInput, resolveExportRequest } from '../../lambdas/export/input';
import { trafficActor, trafficQueryBody } from '../../lambdas/export/traffic-query';
import { parseWorkflowState } from '../../lambdas/export/workflow';
import { configError } from '../support/errors';

const NOW = new Date('2026-03-04T05:06:07.890Z');

describe('parseSince', () => {
  it.each([
    ['24h', 86_400, '24h'],
    ['last 24h', 86_400, '24h'],
    ['Last 7 days', 604_800, '7d'],
    ['90m', 5_400, '90m'],
    ['90 minutes', 5_400, '90m'],
    ['2w', 1_209_600, '2w'],
    [' 1 hour ', 3_600, '1h'],
  ])('reads %j as %d seconds (%s)', (text, seconds, canonical) => {
    expect(parseSince(text)).toEqual({ seconds, canonical });
  });

  it.each(['', '24', 'h', '0h', '-1h', '1y', 'yesterday', '24h ago', '1.5h'])('rejects %j', (text) => {
    expect(parseSince(text)).toBeUndefined();
  });
});

describe('trafficActor', () => {
  it.each([
    ['/orgs/1/labels/7', { label: { href: '/orgs/1/labels/7' } }],
    [
      '/orgs/1/sec_policy/active/label_groups/0b2c4d6e-1111',
      { label_group: { href: '/orgs/1/sec_policy/active/label_groups/0b2c4d6e-1111' } },
    ],
    [
      '/orgs/1/workloads/aab564e8-4051-49cf-981c-d8cd228156d1',
      { workload: { href: '/orgs/1/workloads/aab564e8-4051-49cf-981c-d8cd228156d1' } },
    ],
    ['/orgs/1/sec_policy/draft/ip_lists/12', { ip_list: { href: '/orgs/1/sec_policy/draft/ip_lists/12' } }],
    ['10.1.2.3', { ip_address: '10.1.2.3' }],
    ['10.0.0.0/8', { ip_address: '10.0.0.0/8' }],
    ['2001:db8::/32', { ip_address: '2001:db8::/32' }],
  ])('turns %s into its PCE actor', (value, actor) => {
    expect(trafficActor(value)).toEqual(actor);
  });

  it.each([
    'env=prod',
    '/orgs/1/labels/x',
    '/orgs/1/labels/7/../8',
    '/orgs/1/services/3',
    '10.0.0.0/33',
    '300.1.1.1',
    'https://pce.example.com/orgs/1/labels/7',
  ])('rejects %s', (value) => {
    expect(trafficActor(value)).toBeUndefined();
  });
});

describe('traffic export input', () => {
  it('resolves {"kind": "traffic"} to the 24 hours before now, every decision, 100000 flows', () => {
    const request = resolveExportRequest({ kind: 'traffic' }, {}, { now: NOW });

    expect(request).toEqual({
      kind: 'traffic',
      name: 'traffic',
      path: '/traffic_flows/async_queries',
      query: {},
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: 3600,
      traffic: {
        since: '24h',
        startDate: '2026-03-03T05:06:07.890Z',
        endDate: '2026-03-04T05:06:07.890Z',
        policyDecisions: [],
        maxResults: 100_000,
        sources: { include: [], exclude: [] },
        destinations: { include: [], exclude: [] },
      },
    });
  });

  it('resolves an absolute range, filters, decisions and the other export fields', () => {
    const request = resolveExportRequest(
      {
        exportName: 'blocked',
        kind: 'traffic',
        format: 'raw',
        gzip: false,
        maxWaitSeconds: 600,
        traffic: {
          start: '2026-03-01T00:00:00+01:00',
          end: '2026-03-02',
          policyDecisions: ['blocked', 'potentially_blocked'],
          sources: { include: ['/orgs/1/labels/7', ['/orgs/1/labels/3', '/orgs/1/labels/9']] },
          destinations: { exclude: ['10.0.0.0/8'] },
          maxResults: 200_000,
          queryName: 'nightly blocked flows',
        },
      },
      {},
      { now: NOW },
    );

    expect(request).toMatchObject({ name: 'blocked', format: 'raw', gzip: false, maxWaitSeconds: 600 });
    expect(request.traffic).toEqual({
      startDate: '2026-02-28T23:00:00.000Z',
      endDate: '2026-03-02T00:00:00.000Z',
      policyDecisions: ['blocked', 'potentially_blocked'],
      maxResults: 200_000,
      sources: { include: [['/orgs/1/labels/7'], ['/orgs/1/labels/3', '/orgs/1/labels/9']], exclude: [] },
      destinations: { include: [], exclude: ['10.0.0.0/8'] },
      queryName: 'nightly blocked flows',
    });
  });

  it('ends an absolute range without end at now', () => {
    const request = resolveExportRequest(
      { kind: 'traffic', traffic: { start: '2026-03-04T00:00:00Z' } },
      {},
      { now: NOW },
    );

    expect(request.traffic).toMatchObject({
      startDate: '2026-03-04T00:00:00.000Z',
      endDate: NOW.toISOString(),
    });
    expect(request.traffic?.since).toBeUndefined();
  });

  it('runs a configured traffic export by name, with a range given at run time replacing the configured one', () => {
    const configured = { daily: { kind: 'traffic' as const, traffic: { since: '24h', maxResults: 5000 } } };

    const byName = resolveExportRequest({ exportName: 'daily' }, configured, { now: NOW });
    const overridden = resolveExportRequest({ exportName: 'daily', traffic: { since: '7d' } }, configured, {
      now: NOW,
    });

    expect(byName).toMatchObject({
      kind: 'traffic',
      name: 'daily',
      traffic: { since: '24h', maxResults: 5000 },
    });
    expect(overridden.traffic).toMatchObject({ since: '7d', maxResults: 100_000 });
  });

  it.each([
    [{ kind: 'traffic', path: '/workloads' }, 'input.path is not used by a traffic export'],
    [{ kind: 'traffic', query: { a: 'b' } }, 'input.query is not used by a traffic export'],
    [
      { path: '/workloads', traffic: { since: '24h' } },
      'input.traffic is only used by a traffic export: set "kind" to "traffic"',
    ],
    [{ kind: 'flows' }, 'input.kind'],
    [
      { kind: 'traffic', traffic: { since: 'yesterday' } },
      'input.traffic.since must be a duration such as "24h"',
    ],
    [{ kind: 'traffic', traffic: { since: '400d' } }, 'input.traffic.since must be at most 366 days'],
    [
      { kind: 'traffic', traffic: { since: '24h', start: '2026-03-01T00:00:00Z' } },
      'input.traffic.since cannot be combined with start or end',
    ],
    [{ kind: 'traffic', traffic: { end: '2026-03-01T00:00:00Z' } }, 'input.traffic.end needs a start'],
    [
      { kind: 'traffic', traffic: { start: '2026-03-02T00:00:00Z', end: '2026-03-01T00:00:00Z' } },
      'input.traffic.end must be after start',
    ],
    [
      { kind: 'traffic', traffic: { start: '2026-03-01T00:00:00' } },
      'input.traffic.start must be an ISO 8601 date, or a time with its zone',
    ],
    [
      { kind: 'traffic', traffic: { maxResults: 200_001 } },
      'input.traffic.maxResults must be at most 200000',
    ],
    [{ kind: 'traffic', traffic: { maxResults: 0 } }, 'input.traffic.maxResults must be at least 1'],
    [{ kind: 'traffic', traffic: { maxResults: 1.5 } }, 'input.traffic.maxResults must be a whole number'],
    [
      { kind: 'traffic', traffic: { policyDecisions: ['denied'] } },
      'input.traffic.policyDecisions.0 must be one of allowed, potentially_blocked, blocked, unknown',
    ],
    [
      { kind: 'traffic', traffic: { policyDecisions: ['blocked', 'blocked'] } },
      'input.traffic.policyDecisions must not repeat a decision',
    ],
    [
      { kind: 'traffic', traffic: { sources: { include: ['production'] } } },
      'input.traffic.sources.include.0 must be a label, label group, workload or IP list href',
    ],
    [
      { kind: 'traffic', traffic: { destinations: { exclude: ['/orgs/1/labels/x'] } } },
      'input.traffic.destinations.exclude.0 must be',
    ],
    [{ kind: 'traffic', traffic: { sources: { include: [[]] } } }, 'input.traffic.sources.include.0'],
    [
      { kind: 'traffic', traffic: { sources: { any: [] } } },
      'input.traffic.sources has unknown field(s) any',
    ],
    [{ kind: 'traffic', traffic: { window: '24h' } }, 'input.traffic has unknown field(s) window'],
    [
      { kind: 'traffic', traffic: { queryName: 'a\nb' } },
      'input.traffic.queryName must not contain control characters',
    ],
  ])('rejects %j, naming the field', (input, message) => {
    expect(configError(() => resolveExportRequest(input, {}, { now: NOW }))).toContain(message);
  });

  it('rejects filters that name more than 200 actors in all', () => {
    const ips = Array.from({ length: 51 }, (_, i) => `10.0.0.${i + 1}`);
    const filter = { include: ips, exclude: ips };

    const message = configError(() =>
      resolveExportRequest({ kind: 'traffic', traffic: { sources: filter, destinations: filter } }),
    );

    expect(message).toContain('input.traffic names 204 actors in its filters; at most 200 in all');
  });

  it('rejects a filter list of more than 64 entries', () => {
    const ips = Array.from({ length: 65 }, (_, i) => `10.0.0.${i + 1}`);

    const message = configError(() =>
      resolveExportRequest({ kind: 'traffic', traffic: { sources: { exclude: ips } } }),
    );

    expect(message).toContain('input.traffic.sources.exclude must have at most 64 entries');
  });

  it('rejects a start without end that lies after the run started', () => {
    const message = configError(() =>
      resolveExportRequest({ kind: 'traffic', traffic: { start: '2026-03-05T00:00:00Z' } }, {}, { now: NOW }),
    );

    expect(message).toContain('input.traffic.start');
    expect(message).toContain('must be before the run');
  });

  it('says which configured export brought the conflicting field', () => {
    const message = configError(() =>
      resolveExportRequest({ exportName: 'labels', kind: 'traffic' }, { labels: { path: '/labels' } }),
    );

    expect(message).toContain('export "labels"');
    expect(message).toContain('input.path is not used by a traffic export');
  });

  it('accepts a traffic input in the same schema the CLI and the config check', () => {
    expect(
      parseExportInput({ kind: 'traffic', traffic: { since: 'last 7 days', policyDecisions: [] } }),
    ).toEqual({
      kind: 'traffic',
      traffic: { since: 'last 7 days', policyDecisions: [] },
    });
  });
});

describe('trafficQueryBody', () => {
  const request: TrafficRequest = {
    since: '24h',
    startDate: '2026-03-03T05:06:07.890Z',
    endDate: '2026-03-04T05:06:07.890Z',
    policyDecisions: ['blocked'],
    maxResults: 5000,
    sources: { include: [['/orgs/1/labels/7'], ['/orgs/1/labels/3', '10.1.0.0/16']], exclude: ['10.1.2.3'] },
    destinations: { include: [], exclude: ['/orgs/1/sec_policy/active/ip_lists/4'] },
  };

  it('builds the Explorer body: OR of AND groups, excludes, the range, decisions and cap', () => {
    expect(trafficQueryBody(request, { exportName: 'traffic', executionName: 'run-1', orgId: 1 })).toEqual({
      query_name: 'pce-export traffic run-1',
      start_date: '2026-03-03T05:06:07.890Z',
      end_date: '2026-03-04T05:06:07.890Z',
      policy_decisions: ['blocked'],
      max_results: 5000,
      sources: {
        include: [
          [{ label: { href: '/orgs/1/labels/7' } }],
          [{ label: { href: '/orgs/1/labels/3' } }, { ip_address: '10.1.0.0/16' }],
        ],
        exclude: [{ ip_address: '10.1.2.3' }],
      },
      destinations: {
        include: [[]],
        exclude: [{ ip_list: { href: '/orgs/1/sec_policy/active/ip_lists/4' } }],
      },
      services: { include: [], exclude: [] },
      sources_destinations_query_op: 'and',
      exclude_workloads_from_ip_list_query: true,
    });
  });

  it('uses the configured query name', () => {
    const body = trafficQueryBody(
      { ...request, queryName: 'nightly' },
      { exportName: 'x', executionName: 'y' },
    );

    expect(body.query_name).toBe('nightly');
  });

  it('names the field of an href that belongs to another org', () => {
    const other = {
      ...request,
      sources: { include: [['/orgs/1/labels/3', '/orgs/2/labels/9']], exclude: [] },
    };

    const message = configError(() =>
      trafficQueryBody(other, { exportName: 'x', executionName: 'y', orgId: 1 }),
    );

    expect(message).toContain(
      'traffic.sources.include[0][1] "/orgs/2/labels/9" belongs to org 2, not the configured org 1',
    );
  });
});

describe('traffic workflow state', () => {
  const QUERY = '/orgs/1/traffic_flows/async_queries/3f2b9a51-7c1e-4a0b-9d7e-0c1b2a3d4e5f';

  function trafficState(): WorkflowState {
    return {
      export: resolveExportRequest(
        { kind: 'traffic', traffic: { sources: { include: ['/orgs/1/labels/7'] } } },
        {},
        { now: NOW },
      ),
      execution: { name: 'run-1', startTime: NOW.toISOString() },
      job: {
        href: QUERY,
        status: 'done',
        polls: 2,
        waitSeconds: 5,
        retryAfterSeconds: 5,
        requestedAt: NOW.toISOString(),
        deadline: '2026-03-04T06:06:07.890Z',
        timedOut: false,
        resultHref: `${QUERY}/download`,
      },
    };
  }

  it('keeps the kind and the resolved query from one step to the next', () => {
    const state = trafficState();

    expect(parseWorkflowState(JSON.parse(JSON.stringify(state)), 1)).toEqual(state);
  });

  it('rejects a traffic state whose query went missing', () => {
    const state = trafficState();
    const { traffic: _dropped, ...rest } = state.export;

    expect(configError(() => parseWorkflowState({ ...state, export: rest }, 1))).toContain(
      'state.export.traffic is missing for a traffic export',
    );
  });

  it('rejects a traffic state that carries a collection job', () => {
    const state = trafficState();

    expect(
      configError(() =>
        parseWorkflowState(
          { ...state, job: { ...state.job, href: '/orgs/1/jobs/abc', resultHref: undefined } },
          1,
        ),
      ),
    ).toContain('state.job does not hold the hrefs of a traffic query');
  });

  it('rejects a collection state that carries a traffic query', () => {
    const state = trafficState();
    const { traffic: _dropped, kind: _kind, ...collection } = state.export;

    expect(
      configError(() => parseWorkflowState({ ...state, export: { ...collection, path: '/workloads' } }, 1)),
    ).toContain('state.job does not hold the hrefs of a collection job');
  });

  it('rejects a traffic query of another org', () => {
    const state = trafficState();
    const href = QUERY.replace('/orgs/1/', '/orgs/2/');

    expect(
      configError(() =>
        parseWorkflowState({ ...state, job: { ...state.job, href, resultHref: `${href}/download` } }, 1),
      ),
    ).toContain('belongs to org 2');
  });

  it('rejects a tampered filter in the state', () => {
    const state = trafficState();
    const traffic = {
      ...state.export.traffic,
      sources: { include: [['/orgs/1/labels/../../users']], exclude: [] },
    };

    expect(
      configError(() => parseWorkflowState({ ...state, export: { ...state.export, traffic } }, 1)),
    ).toContain('state.export.traffic.sources.include');
  });
});
