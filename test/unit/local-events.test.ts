import { describe, expect, it } from 'vitest';
import { createLocalEvents } from '../../local/events';

const CONTEXT = {
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:PceExportWorkflow:run-1',
  stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:PceExportWorkflow',
};

function entry(overrides: Record<string, unknown> = {}) {
  return {
    Source: 'pce-export',
    DetailType: 'Export Succeeded',
    Detail: { key: 'pce/labels/dt=2026-03-04/x.ndjson.gz' },
    EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
    ...overrides,
  };
}

describe('the local EventBridge stand-in', () => {
  it('records each entry with the state machine and execution ARNs appended to its resources, in that order', async () => {
    const events = createLocalEvents();

    const response = await events.putEvents({ Entries: [entry()] }, CONTEXT);

    expect(events.sent).toEqual([
      {
        id: expect.any(String),
        time: expect.any(String),
        source: 'pce-export',
        detailType: 'Export Succeeded',
        detail: { key: 'pce/labels/dt=2026-03-04/x.ndjson.gz' },
        eventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/default',
        resources: [CONTEXT.stateMachineArn, CONTEXT.executionArn],
      },
    ]);
    expect(response).toEqual({ Entries: [{ EventId: events.sent[0]?.id }], FailedEntryCount: 0 });
    expect(events.sentBy(CONTEXT.executionArn)).toHaveLength(1);
    expect(events.sentBy(`${CONTEXT.executionArn}-other`)).toEqual([]);
  });

  it('parses a detail given as a JSON string', async () => {
    const events = createLocalEvents();

    await events.putEvents({ Entries: [entry({ Detail: '{"bytes": 3}' })] }, CONTEXT);

    expect(events.sent[0]?.detail).toEqual({ bytes: 3 });
  });

  it.each([
    ['a source in the aws. namespace', { Source: 'aws.states' }, 'must not start with aws.'],
    ['a missing detail type', { DetailType: '' }, 'DetailType is required'],
    ['a detail that is not an object', { Detail: '[1, 2]' }, 'Detail must be a JSON object'],
    ['a malformed bus', { EventBusName: 'not a bus' }, 'is not a bus name or ARN'],
  ])(
    'fails the task with EventBridge.FailedEntry for %s and records nothing',
    async (_, overrides, message) => {
      const events = createLocalEvents();

      const rejection = events.putEvents({ Entries: [entry(overrides)] }, CONTEXT);

      await expect(rejection).rejects.toMatchObject({ name: 'EventBridge.FailedEntry' });
      await expect(rejection).rejects.toThrow(message);
      expect(events.sent).toEqual([]);
    },
  );

  it('rejects a request of more than ten entries or none', async () => {
    const events = createLocalEvents();

    await expect(events.putEvents({ Entries: [] }, CONTEXT)).rejects.toMatchObject({
      name: 'EventBridge.ValidationException',
    });
    await expect(
      events.putEvents({ Entries: Array.from({ length: 11 }, () => entry()) }, CONTEXT),
    ).rejects.toMatchObject({ name: 'EventBridge.ValidationException' });
  });
});
