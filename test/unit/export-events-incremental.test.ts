import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import { EventsFilter, hrefDigest } from '../../lambdas/export/events-filter';
import { continueEventsWindow, eventsKeysKey } from '../../lambdas/export/events-window';
import { resolveExportRequest } from '../../lambdas/export/input';
import { PceProtocolError } from '../../lambdas/pce/errors';
import { mockedS3 } from '../support/s3-mock';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const execution = { startTime: NOW.toISOString() };
const { s3, s3Mock } = mockedS3();
const store = { s3: async () => s3, bucket: 'exports', prefix: 'pce/' };
const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };

function incremental(events: Record<string, unknown> = {}) {
  return resolveExportRequest(
    { kind: 'events', exportName: 'audit', events: { since: '1h', incremental: true, ...events } },
    {},
    { now: NOW },
  );
}

function watermarkAt(end: string) {
  const body = JSON.stringify({
    exportName: 'audit',
    end,
    keysKey: 'pce/audit/_incremental/run-1.keys.json',
    executionName: 'run-1',
    manifestKey: 'pce/audit/_manifests/m.json',
    completedAt: end,
    tool: 'pce-export/test',
  });
  s3Mock.on(GetObjectCommand, { Key: 'pce/audit/watermark.json' }).resolves({
    Body: Object.assign(Readable.from([Buffer.from(body)]), { transformToString: async () => body }) as never,
  });
}

afterEach(() => {
  s3Mock.reset();
});

describe('an incremental events window', () => {
  it('takes the default overlap and catch-up limit, and nothing of it without "incremental"', () => {
    expect(incremental().events?.incremental).toEqual({ overlapSeconds: 600, catchUpSeconds: 604_800 });
    expect(incremental({ overlap: '15m', catchUp: '3d' }).events?.incremental).toEqual({
      overlapSeconds: 900,
      catchUpSeconds: 259_200,
    });
    const plain = resolveExportRequest({ kind: 'events', events: { since: '1h' } }, {}, { now: NOW });
    expect(plain.events).not.toHaveProperty('incremental');
  });

  it('keeps the configured window on the first run, and records the overlap from its end', async () => {
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'none', $metadata: {} }));

    const request = await continueEventsWindow(incremental(), execution, store, logger);

    expect(request.events).toMatchObject({
      startDate: '2026-12-01T11:00:00.000Z',
      endDate: '2026-12-01T12:00:00.000Z',
      window: { mode: 'first', tailFrom: '2026-12-01T11:50:00.000Z' },
    });
    expect(request.events?.window).not.toHaveProperty('previous');
  });

  it("starts at the last run's end less the overlap, and queries that window", async () => {
    watermarkAt('2026-12-01T11:30:00.000Z');

    const request = await continueEventsWindow(incremental({ overlap: '15m' }), execution, store, logger);

    expect(request.events).toMatchObject({
      startDate: '2026-12-01T11:15:00.000Z',
      endDate: '2026-12-01T12:00:00.000Z',
      window: {
        mode: 'continued',
        previous: { end: '2026-12-01T11:30:00.000Z', keysKey: 'pce/audit/_incremental/run-1.keys.json' },
        tailFrom: '2026-12-01T11:45:00.000Z',
      },
    });
    expect(request.query).toMatchObject({
      'timestamp[gte]': '2026-12-01T11:15:00.000Z',
      'timestamp[lte]': '2026-12-01T12:00:00.000Z',
    });
  });

  it('is capped at the catch-up limit after a longer gap, and says which range it skips', async () => {
    watermarkAt('2026-11-20T00:00:00.000Z');

    const request = await continueEventsWindow(incremental({ catchUp: '3d' }), execution, store, logger);

    expect(request.events).toMatchObject({
      startDate: '2026-11-28T12:00:00.000Z',
      endDate: '2026-12-01T12:00:00.000Z',
      window: {
        mode: 'caught-up',
        skipped: { from: '2026-11-20T00:00:00.000Z', to: '2026-11-28T12:00:00.000Z' },
      },
    });
    expect(request.events?.window).not.toHaveProperty('previous');
  });

  it('leaves a request that is not incremental, or already continued, as it is', async () => {
    const plain = resolveExportRequest({ kind: 'events', events: { since: '1h' } }, {}, { now: NOW });
    expect(await continueEventsWindow(plain, execution, undefined, logger)).toBe(plain);
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'none', $metadata: {} }));
    const once = await continueEventsWindow(incremental(), execution, store, logger);
    expect(await continueEventsWindow(once, execution, store, logger)).toBe(once);
  });

  it('is refused in a snapshot member, whose runs keep no watermark', async () => {
    await expect(
      continueEventsWindow(incremental(), { ...execution, snapshot: 'morning' }, store, logger),
    ).rejects.toThrow(/input\.events\.incremental is not used by a snapshot member/);
  });

  it.each([
    [
      { end: '2026-12-01T00:00:00Z', since: undefined, start: '2026-11-30T00:00:00Z' },
      /input\.events\.end cannot be combined with incremental/,
    ],
    [{ incremental: false, overlap: '15m' }, /input\.events\.overlap is only used with "incremental": true/],
    [{ incremental: false, catchUp: '3d' }, /input\.events\.catchUp is only used with "incremental": true/],
    [{ overlap: 'soon' }, /input\.events\.overlap must be a duration such as "10m"/],
    [{ overlap: '2d' }, /input\.events\.overlap must be at most 1 day/],
    [{ catchUp: '400d' }, /input\.events\.catchUp must be at most 366 days/],
  ])('rejects %j with a message naming the field', (events, message) => {
    expect(() => incremental(events)).toThrow(ExportConfigError);
    expect(() => incremental(events)).toThrow(message);
  });

  it('keeps its overlap keys in the export folder, outside the data partitions', () => {
    expect(eventsKeysKey('pce/', 'audit', 'run-2')).toBe('pce/audit/_incremental/run-2.keys.json');
  });
});

const event = (n: number, timestamp: string) => ({
  href: `/orgs/1/events/${n}`,
  timestamp,
  event_type: 'user.sign_in',
});

async function filtered(filter: EventsFilter, events: readonly unknown[]): Promise<string> {
  const lines = events.map((e) => `${JSON.stringify(e)}\n`).join('');
  // Chunks that cut lines in two, as the scanner's output does.
  const chunks = lines.match(/[\s\S]{1,7}/g) ?? [];
  let out = '';
  await pipeline(Readable.from(chunks.map((c) => Buffer.from(c))), filter, async (source) => {
    for await (const chunk of source) out += String(chunk);
  });
  return out;
}

describe('the events filter of an incremental run', () => {
  const events = [
    event(1, '2026-12-01T11:16:00.000Z'),
    event(2, '2026-12-01T11:25:00.000Z'),
    event(3, '2026-12-01T11:29:59.000Z'),
    event(4, '2026-12-01T11:40:00.000Z'),
    event(5, '2026-12-01T11:55:00.000Z'),
  ];

  it("drops the events whose href the previous run stored, up to that run's end, and counts them", async () => {
    const filter = new EventsFilter({
      previousKeys: new Set([hrefDigest('/orgs/1/events/1'), hrefDigest('/orgs/1/events/3')]),
      previousEnd: Date.parse('2026-12-01T11:30:00.000Z'),
      tailFrom: Date.parse('2026-12-01T11:50:00.000Z'),
      array: false,
      href: '/orgs/1/datafiles/x',
    });

    const out = await filtered(filter, events);

    expect(
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).href),
    ).toEqual(['/orgs/1/events/2', '/orgs/1/events/4', '/orgs/1/events/5']);
    expect(filter.counts).toEqual({ downloaded: 5, kept: 3, overlap: 2 });
  });

  it('keeps an event after the previous run ended even when its href digest is among the keys', async () => {
    const filter = new EventsFilter({
      previousKeys: new Set([hrefDigest('/orgs/1/events/4')]),
      previousEnd: Date.parse('2026-12-01T11:30:00.000Z'),
      tailFrom: Date.parse('2026-12-01T11:50:00.000Z'),
      array: false,
      href: '/orgs/1/datafiles/x',
    });

    await filtered(filter, events);

    expect(filter.counts).toEqual({ downloaded: 5, kept: 5, overlap: 0 });
  });

  it('records the href digests of the events from the tail on, and only those', async () => {
    const filter = new EventsFilter({
      tailFrom: Date.parse('2026-12-01T11:40:00.000Z'),
      array: false,
      href: '/orgs/1/datafiles/x',
    });

    await filtered(filter, events);

    expect(filter.tail).toEqual([
      [Date.parse('2026-12-01T11:40:00.000Z'), hrefDigest('/orgs/1/events/4')],
      [Date.parse('2026-12-01T11:55:00.000Z'), hrefDigest('/orgs/1/events/5')],
    ]);
  });

  it('writes one JSON array for the raw format, an empty one when nothing is left', async () => {
    const options = { tailFrom: 0, array: true, href: '/orgs/1/datafiles/x' };
    expect(JSON.parse(await filtered(new EventsFilter(options), events.slice(0, 2)))).toEqual(
      events.slice(0, 2),
    );
    expect(await filtered(new EventsFilter(options), [])).toBe('[]');
  });

  it('fails with PceProtocolError for an event it cannot deduplicate: no href or no timestamp', async () => {
    const options = { tailFrom: 0, array: false, href: '/orgs/1/datafiles/x' };
    await expect(
      filtered(new EventsFilter(options), [{ timestamp: '2026-12-01T11:00:00Z' }]),
    ).rejects.toThrow(PceProtocolError);
    await expect(filtered(new EventsFilter(options), [{ href: '/orgs/1/events/9' }])).rejects.toThrow(
      /Event 1 of \/orgs\/1\/datafiles\/x has no href or no timestamp/,
    );
  });
});
