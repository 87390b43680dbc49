import { describe, expect, it } from 'vitest';
import { createLocalEvents } from '../../local/events';
import { runWorkflow } from '../../local/runner';
import { stack } from './local-engine-support';

describe('Wait states of the local engine', () => {
  const local = stack({
    Waiting: {
      StartAt: 'Hold',
      States: {
        Hold: { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    },
  });

  it('pause for the override instead of their seconds, which stay in the state, and count in the history', async () => {
    const outcome = await runWorkflow({
      local,
      handlers: {},
      events: createLocalEvents(),
      input: { seconds: 86_400 },
      stateMachine: 'Waiting',
      waitTimeOverrides: { Hold: 0 },
    });

    expect(outcome).toMatchObject({ status: 'SUCCEEDED', output: { seconds: 86_400 } });
    expect(outcome.history.byType).toMatchObject({ WaitStateEntered: 1, WaitStateExited: 1 });
  });
});
