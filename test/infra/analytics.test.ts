import { describe, expect, it } from 'vitest';
import {
  actionsOf,
  configObject,
  logicalId,
  renderDefinition,
  renderIntrinsics,
  type Statement,
  statementsOfRole,
  stateOf,
  synthStack,
} from './support';

const DEFAULT_BUS = 'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default';
const PUT_EVENTS = 'arn:<AWS::Partition>:states:::events:putEvents';

function stateMachineStatements(synth: ReturnType<typeof synthStack>): Statement[] {
  const role = synth.stack.workflow.stateMachine.role;
  return statementsOfRole(synth.template, logicalId(role));
}

function eventStatements(statements: Statement[]) {
  return statements
    .filter((statement) => actionsOf(statement).some((action) => action.startsWith('events:')))
    .map((statement) => ({ ...statement, Resource: renderIntrinsics(statement.Resource) }));
}

describe('EventBridge events of the export workflow', () => {
  const synth = synthStack();
  const definition = renderDefinition(synth.template);

  it('puts "Export Succeeded" with the execution output as detail on the default bus before Done', () => {
    expect(stateOf(definition, 'Fetch').Next).toBe('NotifySucceeded');
    expect(stateOf(definition, 'NotifySucceeded')).toMatchObject({
      Type: 'Task',
      Resource: PUT_EVENTS,
      Parameters: {
        Entries: [
          {
            Source: 'pce-export',
            DetailType: 'Export Succeeded',
            'Detail.$': '$',
            EventBusName: DEFAULT_BUS,
          },
        ],
      },
      ResultPath: null,
      Next: 'Done',
    });
  });

  it.each([
    [
      'NotifyJobFailed',
      'JobFailed',
      { Error: 'PceJobFailed', CausePath: '$.job.message' },
      'PceJobFailed',
      '$.job.message',
    ],
    [
      'NotifyJobTimedOut',
      'JobTimedOut',
      { Error: 'PceJobTimeout', CausePath: '$.job.message' },
      'PceJobTimeout',
      '$.job.message',
    ],
    [
      'NotifyExportFailed',
      'ExportFailed',
      { ErrorPath: '$.error', CausePath: '$.detail.errorMessage' },
      '$.error',
      '$.detail.errorMessage',
    ],
  ])(
    '%s puts "Export Failed" with the error, cause, execution and input, then ends in %s as before',
    (notify, fail, failFields, error, cause) => {
      const entry = {
        Source: 'pce-export',
        DetailType: 'Export Failed',
        EventBusName: DEFAULT_BUS,
        Detail: {
          ...(error.startsWith('$') ? { 'error.$': error } : { error }),
          'cause.$': cause,
          execution: {
            'name.$': '$$.Execution.Name',
            'id.$': '$$.Execution.Id',
            'startTime.$': '$$.Execution.StartTime',
          },
          'input.$': '$$.Execution.Input',
        },
      };

      expect(stateOf(definition, notify)).toMatchObject({
        Type: 'Task',
        Resource: PUT_EVENTS,
        Parameters: { Entries: [entry] },
        ResultPath: null,
        Next: fail,
      });
      expect(stateOf(definition, fail)).toEqual({ Type: 'Fail', ...failFields });
    },
  );

  it.each(['NotifySucceeded', 'NotifyJobFailed', 'NotifyJobTimedOut', 'NotifyExportFailed'])(
    '%s retries, and an event that still cannot be sent leaves the outcome as it was',
    (notify) => {
      const state = stateOf(definition, notify);

      expect(state.Retry).toEqual([
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 1,
          BackoffRate: 2,
          MaxAttempts: 3,
          JitterStrategy: 'FULL',
        },
      ]);
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: state.Next }]);
    },
  );

  it('lets the state machine put events on the default bus and nowhere else', () => {
    expect(eventStatements(stateMachineStatements(synth))).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: DEFAULT_BUS },
    ]);
  });

  it('lets no function put events', () => {
    const { workflow } = synth.stack;
    for (const fn of [workflow.submitFunction, workflow.pollFunction, workflow.fetchFunction]) {
      const roleId = logicalId(fn.role ?? fn);
      expect(eventStatements(statementsOfRole(synth.template, roleId))).toEqual([]);
    }
  });

  it.each([
    [
      'a bus name',
      'pce-exports',
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/pce-exports',
    ],
    [
      'a bus ARN in another account',
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
      'arn:aws:events:eu-west-1:123456789012:event-bus/central',
    ],
  ])('sends the events to the configured bus given by %s, and may send only there', (_, bus, arn) => {
    const config = { ...configObject(), events: { bus } };
    const custom = synthStack(config);
    const customDefinition = renderDefinition(custom.template);

    for (const notify of ['NotifySucceeded', 'NotifyExportFailed']) {
      const entries = (
        stateOf(customDefinition, notify).Parameters as { Entries: { EventBusName: string }[] }
      ).Entries;
      expect(entries.map((entry) => entry.EventBusName)).toEqual([arn]);
    }
    expect(eventStatements(stateMachineStatements(custom))).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: arn },
    ]);
  });

  it('rejects a configured bus that is neither a name nor an ARN, naming the field', () => {
    expect(() => synthStack({ ...configObject(), events: { bus: 'my bus!' } })).toThrow(
      /events\.bus must be an event bus name .* or an event bus ARN/,
    );
  });
});
