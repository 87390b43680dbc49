import { describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import { resolveExportRequest } from '../../lambdas/export/input';
import { kindOf } from '../../lambdas/export/kinds';

const NOW = new Date('2026-12-01T12:00:00.000Z');

describe('events exports', () => {
  it('resolve "since" against the run start into an inclusive timestamp window on /events', () => {
    const request = resolveExportRequest({ kind: 'events', events: { since: '6h' } }, {}, { now: NOW });

    expect(request).toMatchObject({
      kind: 'events',
      name: 'events',
      path: '/events',
      query: { 'timestamp[gte]': '2026-12-01T06:00:00.000Z', 'timestamp[lte]': '2026-12-01T12:00:00.000Z' },
      events: { since: '6h', startDate: '2026-12-01T06:00:00.000Z', endDate: '2026-12-01T12:00:00.000Z' },
      format: 'ndjson',
    });
  });

  it('take the last 24 hours when no window is given, and pass the type, severity and status filters on', () => {
    const request = resolveExportRequest(
      {
        kind: 'events',
        exportName: 'failed-sign-ins',
        events: { eventTypes: ['user.sign_in', 'user.sign_out'], severity: 'warning', status: 'failure' },
      },
      {},
      { now: NOW },
    );

    expect(request.name).toBe('failed-sign-ins');
    expect(request.query).toEqual({
      'timestamp[gte]': '2026-11-30T12:00:00.000Z',
      'timestamp[lte]': '2026-12-01T12:00:00.000Z',
      event_type: 'user.sign_in,user.sign_out',
      severity: 'warning',
      status: 'failure',
    });
  });

  it('take an absolute window, its end defaulting to the run start', () => {
    const request = resolveExportRequest(
      { kind: 'events', format: 'parquet', events: { start: '2026-11-30T00:00:00Z' } },
      {},
      { now: NOW },
    );

    expect(request.events).toEqual({
      startDate: '2026-11-30T00:00:00.000Z',
      endDate: '2026-12-01T12:00:00.000Z',
      eventTypes: [],
    });
  });

  it('submit the window as a collection job, the way the PCE takes /events asynchronously', () => {
    const request = resolveExportRequest({ kind: 'events', events: { since: '1h' } }, {}, { now: NOW });

    const prepared = kindOf(request).prepare(request, { exportName: 'events', executionName: 'x' });
    expect(prepared.logged).toMatchObject({ path: '/events', events: request.events });
    expect(kindOf(request).noun).toBe('job');
  });

  it.each([
    [
      { kind: 'events', events: { since: '1h', start: '2026-11-01T00:00:00Z' } },
      /input\.events\.since cannot be combined/,
    ],
    [{ kind: 'events', events: { end: '2026-11-01T00:00:00Z' } }, /input\.events\.end needs a start/],
    [{ kind: 'events', events: { severity: 'loud' } }, /input\.events\.severity/],
    [
      { kind: 'events', events: { eventTypes: ['Sign In'] } },
      /input\.events\.eventTypes\.0 must be an event type/,
    ],
    [{ kind: 'events', path: '/workloads' }, /input\.path is not used by an events export/],
    [{ path: '/workloads', events: { since: '1h' } }, /input\.events is only used by an events export/],
    [{ kind: 'events', changes: true }, /input\.changes is only used by a collection export/],
    [{ kind: 'events', events: { start: '2026-12-02T00:00:00Z' } }, /must be before the run's start time/],
  ])('reject %j with a message naming the field', (input, message) => {
    expect(() => resolveExportRequest(input, {}, { now: NOW })).toThrow(ExportConfigError);
    expect(() => resolveExportRequest(input, {}, { now: NOW })).toThrow(message);
  });
});
