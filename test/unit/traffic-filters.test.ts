import { describe, expect, it } from 'vitest';
import { trafficActorKind } from '../../lambdas/contracts/traffic';
import { labelKeyValue } from '../../lambdas/contracts/traffic-filters';
import { resolveExportRequest } from '../../lambdas/export/input';
import { trafficQueryBody } from '../../lambdas/export/traffic-query';
import { configError } from '../support/errors';

const NOW = new Date('2026-03-04T05:06:07.890Z');
const context = { exportName: 'traffic', executionName: 'run-1', orgId: 1 };

const resolve = (traffic: Record<string, unknown>) => {
  const request = resolveExportRequest({ kind: 'traffic', traffic }, {}, { now: NOW }).traffic;
  if (!request) throw new Error('no traffic request');
  return request;
};

describe('services filters', () => {
  it('take ports, port ranges, protocols by name or number, process and Windows service names', () => {
    const request = resolve({
      services: {
        include: [
          { port: 443, proto: 'tcp' },
          { port: 8000, toPort: 8999, proto: 6 },
          { proto: 'icmp' },
          { processName: 'nginx' },
        ],
        exclude: [{ windowsServiceName: 'W3SVC' }, { port: 53, proto: 'udp' }],
      },
    });

    expect(request.services).toEqual({
      include: [
        { port: 443, proto: 6 },
        { port: 8000, toPort: 8999, proto: 6 },
        { proto: 1 },
        { processName: 'nginx' },
      ],
      exclude: [{ windowsServiceName: 'W3SVC' }, { port: 53, proto: 17 }],
    });
    expect(trafficQueryBody(request, context).services).toEqual({
      include: [
        { port: 443, proto: 6 },
        { port: 8000, to_port: 8999, proto: 6 },
        { proto: 1 },
        { process_name: 'nginx' },
      ],
      exclude: [{ windows_service_name: 'W3SVC' }, { port: 53, proto: 17 }],
    });
  });

  it.each([
    [
      { include: [{}] },
      'input.traffic.services.include.0 must give port, proto, processName or windowsServiceName',
    ],
    [{ include: [{ toPort: 80 }] }, 'input.traffic.services.include.0.toPort needs a port'],
    [
      { exclude: [{ port: 90, toPort: 80 }] },
      'input.traffic.services.exclude.0.toPort must not be below port',
    ],
    [{ include: [{ port: 70_000 }] }, 'input.traffic.services.include.0.port must be at most 65535'],
    [
      { include: [{ proto: 'sctp' }] },
      'input.traffic.services.include.0.proto must be "tcp", "udp", "icmp" or a protocol number',
    ],
    [
      { include: [{ port: 80, protocol: 'tcp' }] },
      'input.traffic.services.include.0 has unknown field(s) protocol',
    ],
    [{ include: [{ processName: 'bad\nname' }] }, 'processName must not contain control characters'],
  ])('reject %j, naming the field', (services, message) => {
    expect(configError(() => resolve({ services }))).toContain(message);
  });

  it('leave a query without services as it was', () => {
    expect(trafficQueryBody(resolve({}), context).services).toEqual({ include: [], exclude: [] });
    expect(resolve({}).services).toBeUndefined();
  });
});

describe('transmission', () => {
  it('excludes the transmissions left out, after the destinations the user excludes', () => {
    const request = resolve({
      transmission: ['broadcast', 'multicast'],
      destinations: { exclude: ['10.0.0.0/8'] },
    });

    expect(trafficQueryBody(request, context).destinations).toEqual({
      include: [[]],
      exclude: [{ ip_address: '10.0.0.0/8' }, { transmission: 'unicast' }],
    });
  });

  it.each([
    [[], 'input.traffic.transmission must name at least one transmission'],
    [['anycast'], 'input.traffic.transmission.0 must be one of unicast, broadcast, multicast'],
    [['unicast', 'unicast'], 'input.traffic.transmission must not repeat a transmission'],
  ])('rejects %j', (transmission, message) => {
    expect(configError(() => resolve({ transmission }))).toContain(message);
  });
});

describe('draft policy and the IP-list toggle', () => {
  it('are left out of the request at their defaults', () => {
    const request = resolve({ draftPolicy: false, excludeWorkloadsFromIpListQuery: true });

    expect(request).not.toHaveProperty('draftPolicy');
    expect(request).not.toHaveProperty('excludeWorkloadsFromIpListQuery');
    expect(trafficQueryBody(request, context).exclude_workloads_from_ip_list_query).toBe(true);
  });

  it('ask for draft decisions and let IP lists match workloads', () => {
    const request = resolve({ draftPolicy: true, excludeWorkloadsFromIpListQuery: false });

    expect(request).toMatchObject({ draftPolicy: true, excludeWorkloadsFromIpListQuery: false });
    expect(trafficQueryBody(request, context).exclude_workloads_from_ip_list_query).toBe(false);
  });

  it.each([
    ['draftPolicy', 'yes', 'input.traffic.draftPolicy'],
    ['excludeWorkloadsFromIpListQuery', 1, 'input.traffic.excludeWorkloadsFromIpListQuery'],
  ])('rejects a %s that is not a boolean', (field, value, message) => {
    expect(configError(() => resolve({ [field]: value }))).toContain(message);
  });
});

describe('labels by key and value', () => {
  it.each([
    ['env=prod', { key: 'env', value: 'prod' }],
    ['app=web=frontend', { key: 'app', value: 'web=frontend' }],
    ['loc=Zürich HQ', { key: 'loc', value: 'Zürich HQ' }],
  ])('reads %s', (text, parsed) => {
    expect(labelKeyValue(text)).toEqual(parsed);
    expect(trafficActorKind(text)).toBe('label_key_value');
  });

  it.each(['=prod', 'env=', '1env=prod', 'env', 'env=a\tb'])('does not take %j for a label', (text) => {
    expect(labelKeyValue(text)).toBeUndefined();
  });

  it('are accepted in the input and must be resolved before a query is built', () => {
    const request = resolve({ sources: { include: [['env=prod', 'app=web']] } });

    expect(request.sources.include).toEqual([['env=prod', 'app=web']]);
    expect(configError(() => trafficQueryBody(request, context))).toContain(
      'traffic.sources.include[0][0] names the label "env=prod" by key and value',
    );
  });
});

describe('splitting and incremental settings', () => {
  it('resolve the overlap and catch-up limit of an incremental export, 10 minutes and 7 days by default', () => {
    expect(resolve({ incremental: true }).incremental).toEqual({
      overlapSeconds: 600,
      catchUpSeconds: 604_800,
    });
    expect(resolve({ incremental: true, overlap: '30m', catchUp: '2d' }).incremental).toEqual({
      overlapSeconds: 1800,
      catchUpSeconds: 172_800,
    });
    expect(resolve({ maxQueries: 50, allowPartial: true })).toMatchObject({
      maxQueries: 50,
      allowPartial: true,
    });
  });

  it.each([
    [
      { incremental: true, start: '2026-03-01', end: '2026-03-02' },
      'input.traffic.end cannot be combined with incremental',
    ],
    [{ overlap: '10m' }, 'input.traffic.overlap is only used with "incremental": true'],
    [{ incremental: true, overlap: '2d' }, 'input.traffic.overlap must be at most 1 day'],
    [{ incremental: true, catchUp: 'soon' }, 'input.traffic.catchUp must be a duration'],
    [{ maxQueries: 1001 }, 'input.traffic.maxQueries must be at most 1000'],
    [{ maxQueries: 0 }, 'input.traffic.maxQueries must be at least 1'],
  ])('reject %j', (traffic, message) => {
    expect(configError(() => resolve(traffic))).toContain(message);
  });
});
