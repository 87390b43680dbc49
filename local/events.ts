import { randomUUID } from 'node:crypto';
import { MAX_PUT_EVENTS_BYTES, MAX_PUT_EVENTS_ENTRIES } from '../lambdas/contracts/limits';
import { StatesError, serviceError } from './aws-errors';
import { type FaultOptions, FaultPlan, matches, type Pattern } from './faults';

/** One event the state machine put on a bus, as EventBridge would deliver it. */
export interface SentEvent {
  readonly id: string;
  readonly time: string;
  readonly source: string;
  readonly detailType: string;
  /** The detail, parsed (EventBridge carries it as a JSON string). */
  readonly detail: unknown;
  /** Bus name or ARN, as the entry gave it; empty for the default bus. */
  readonly eventBusName: string;
  /** The entry's resources, followed by the state machine and execution ARNs Step Functions appends. */
  readonly resources: readonly string[];
}

/** The execution a PutEvents task runs in. */
export interface PutEventsContext {
  readonly executionArn: string;
  readonly stateMachineArn: string;
}

export interface LocalEvents {
  /** Every event sent since the engine started (or since `clear()`), oldest first. */
  readonly sent: readonly SentEvent[];
  /** Events whose resources name this execution. */
  sentBy(executionArn: string): SentEvent[];
  /**
   * What `arn:aws:states:::events:putEvents` does with the task's resolved Parameters: validates
   * each entry as EventBridge does, records the valid ones and returns the PutEvents response.
   * Like the Step Functions integration, a response with failed entries fails the task with
   * `EventBridge.FailedEntry` and the response (JSON) as the cause; the entries that did not fail
   * were delivered all the same.
   */
  putEvents(parameters: unknown, context: PutEventsContext): Promise<PutEventsResponse>;
  /** PutEvents failures a test arms: a service error for the whole request, or failed entries. */
  readonly faults: EventsFaults;
  clear(): void;
}

/** An armed PutEvents failure. */
type EventsFault =
  /** The call fails: `EventBridge.<code>` (e.g. InternalException, 500; ThrottlingException, 400). */
  | { readonly kind: 'service'; readonly code?: string; readonly status?: number; readonly message?: string }
  /** The call succeeds with the matching entries failed (e.g. InternalFailure, ThrottlingException). */
  | { readonly kind: 'entry'; readonly errorCode?: string; readonly errorMessage?: string };

interface EventsFaultSelector {
  readonly detailType?: Pattern;
  readonly source?: Pattern;
}

class EventsFaults extends FaultPlan<{ readonly detailType: string; readonly source: string }, EventsFault> {
  /** Fails the next PutEvents calls (times) with an entry that matches the selector. */
  inject(selector: EventsFaultSelector, fault: EventsFault, options?: FaultOptions): void {
    this.add(
      (entry) => matches(entry.detailType, selector.detailType) && matches(entry.source, selector.source),
      fault,
      options,
    );
  }
}

export interface PutEventsResponse {
  readonly Entries: readonly ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
  readonly FailedEntryCount: number;
}

const EVENT_BUS = /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/;

/**
 * A stand-in for the EventBridge PutEvents integration of Step Functions. Nothing is delivered
 * anywhere: events are kept in memory for tests and tools to read.
 */
export function createLocalEvents(): LocalEvents {
  const sent: SentEvent[] = [];
  const faults = new EventsFaults();

  return {
    sent,
    faults,
    sentBy(executionArn) {
      return sent.filter((event) => event.resources.includes(executionArn));
    },
    async putEvents(parameters, context) {
      const entries = (parameters as { Entries?: unknown } | null)?.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_PUT_EVENTS_ENTRIES) {
        throw validationError(`Entries must be an array of 1 to ${MAX_PUT_EVENTS_ENTRIES} entries`);
      }
      if (Buffer.byteLength(JSON.stringify(entries)) > MAX_PUT_EVENTS_BYTES) {
        throw validationError('Total size of the entries in the request is over the limit.');
      }
      const armed = faultFor(faults, entries);
      const fault = armed?.fault;
      if (fault?.kind === 'service') {
        throw serviceError(
          'EventBridge',
          fault.code ?? 'InternalException',
          fault.message ?? 'Internal Service Error',
          fault.status ?? 500,
        );
      }
      const time = new Date().toISOString();
      const results = entries.map((entry: unknown) => {
        const issue = entryIssue(entry);
        if (issue) return issue;
        const { DetailType: type, Source: source } = entry as Entry;
        if (
          fault?.kind === 'entry' &&
          armed?.request.detailType === type &&
          armed.request.source === source
        ) {
          return {
            ErrorCode: fault.errorCode ?? 'InternalFailure',
            ErrorMessage: fault.errorMessage ?? 'Internal Failure',
          };
        }
        const { Source, DetailType, Detail, EventBusName, Resources } = entry as Entry;
        const event: SentEvent = {
          id: randomUUID(),
          time,
          source: Source,
          detailType: DetailType,
          detail: typeof Detail === 'string' ? JSON.parse(Detail) : Detail,
          eventBusName: EventBusName ?? '',
          resources: [...(Resources ?? []), context.stateMachineArn, context.executionArn],
        };
        sent.push(event);
        return event;
      });
      const response: PutEventsResponse = {
        Entries: results.map((result) => ('ErrorCode' in result ? result : { EventId: result.id })),
        FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length,
      };
      if (response.FailedEntryCount > 0)
        throw new StatesError('EventBridge.FailedEntry', JSON.stringify(response));
      return response;
    },
    clear() {
      sent.length = 0;
      faults.clear();
    },
  };
}

/** The armed fault for this request, with the entry that matched it. */
function faultFor(faults: EventsFaults, entries: readonly unknown[]) {
  for (const entry of entries) {
    const { DetailType, Source } = (entry ?? {}) as Partial<Entry>;
    const request = { detailType: String(DetailType ?? ''), source: String(Source ?? '') };
    const fault = faults.take(request);
    if (fault) return { fault, request };
  }
  return undefined;
}

interface Entry {
  Source: string;
  DetailType: string;
  Detail: unknown;
  EventBusName?: string;
  Resources?: string[];
}

type EntryError = { ErrorCode: string; ErrorMessage: string };

/** How EventBridge rejects an entry: MalformedDetail for the detail, InvalidArgument for the rest. */
function entryIssue(entry: unknown): EntryError | undefined {
  const invalid = (ErrorMessage: string): EntryError => ({ ErrorCode: 'InvalidArgument', ErrorMessage });
  const malformed = (ErrorMessage: string): EntryError => ({ ErrorCode: 'MalformedDetail', ErrorMessage });
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    return invalid('Entry must be an object');
  const { Source, DetailType, Detail, EventBusName, Resources } = entry as Record<string, unknown>;
  if (typeof Source !== 'string' || Source === '' || Source.length > 256)
    return invalid('Parameter Source is not valid. Reason: Source is a required argument.');
  if (Source.startsWith('aws.'))
    return invalid('Parameter Source is not valid. Reason: Source must not start with aws.');
  if (typeof DetailType !== 'string' || DetailType === '' || DetailType.length > 128)
    return invalid('Parameter DetailType is not valid. Reason: DetailType is required.');
  if (EventBusName !== undefined && (typeof EventBusName !== 'string' || !EVENT_BUS.test(EventBusName)))
    return invalid(`EventBusName ${JSON.stringify(EventBusName)} is not a bus name or ARN`);
  if (Resources !== undefined && !(Array.isArray(Resources) && Resources.every((r) => typeof r === 'string')))
    return invalid('Resources must be a list of ARNs');
  let parsed: unknown = Detail;
  if (typeof Detail === 'string') {
    try {
      parsed = JSON.parse(Detail);
    } catch {
      return malformed('Detail is malformed: not valid JSON.');
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return malformed('Detail is malformed: Detail must be a JSON object.');
  return undefined;
}

function validationError(message: string): StatesError {
  return serviceError('EventBridge', 'ValidationException', message, 400);
}
