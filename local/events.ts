import { randomUUID } from 'node:crypto';

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
  /** The entry's resources, followed by the execution and state machine ARNs Step Functions appends. */
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
   * each entry as EventBridge does, records it and returns the PutEvents response. Like the
   * Step Functions integration, a response with failed entries fails the task with
   * `EventBridge.FailedEntry`.
   */
  putEvents(parameters: unknown, context: PutEventsContext): Promise<PutEventsResponse>;
  clear(): void;
}

export interface PutEventsResponse {
  readonly Entries: readonly ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
  readonly FailedEntryCount: number;
}

/** PutEvents accepts 1 to 10 entries of at most 256 KB in total. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const EVENT_BUS = /^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/;

/**
 * A stand-in for the EventBridge PutEvents integration of Step Functions. Nothing is delivered
 * anywhere: events are kept in memory for tests and tools to read.
 */
export function createLocalEvents(): LocalEvents {
  const sent: SentEvent[] = [];

  return {
    sent,
    sentBy(executionArn) {
      return sent.filter((event) => event.resources.includes(executionArn));
    },
    async putEvents(parameters, context) {
      const entries = (parameters as { Entries?: unknown } | null)?.Entries;
      if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
        throw serviceError(
          'EventBridge.ValidationException',
          `Entries must be an array of 1 to ${MAX_ENTRIES} entries`,
        );
      }
      if (Buffer.byteLength(JSON.stringify(entries)) > MAX_REQUEST_BYTES) {
        throw serviceError(
          'EventBridge.ValidationException',
          'Total size of the entries in the request is over the limit.',
        );
      }
      const time = new Date().toISOString();
      const results = entries.map((entry: unknown) => {
        const issue = entryIssue(entry);
        if (issue) return { ErrorCode: 'MalformedDetail', ErrorMessage: issue };
        const { Source, DetailType, Detail, EventBusName, Resources } = entry as Entry;
        const event: SentEvent = {
          id: randomUUID(),
          time,
          source: Source,
          detailType: DetailType,
          detail: typeof Detail === 'string' ? JSON.parse(Detail) : Detail,
          eventBusName: EventBusName ?? '',
          resources: [...(Resources ?? []), context.executionArn, context.stateMachineArn],
        };
        return event;
      });
      const failed = results.filter((result) => 'ErrorCode' in result);
      if (failed.length > 0) {
        throw serviceError(
          'EventBridge.FailedEntry',
          failed.map((result) => ('ErrorMessage' in result ? result.ErrorMessage : '')).join('; '),
        );
      }
      const events = results as SentEvent[];
      sent.push(...events);
      return { Entries: events.map((event) => ({ EventId: event.id })), FailedEntryCount: 0 };
    },
    clear() {
      sent.length = 0;
    },
  };
}

interface Entry {
  Source: string;
  DetailType: string;
  Detail: unknown;
  EventBusName?: string;
  Resources?: string[];
}

function entryIssue(entry: unknown): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return 'Entry must be an object';
  const { Source, DetailType, Detail, EventBusName, Resources } = entry as Record<string, unknown>;
  if (typeof Source !== 'string' || Source === '' || Source.length > 256) return 'Source is required';
  if (Source.startsWith('aws.')) return 'Source must not start with "aws."';
  if (typeof DetailType !== 'string' || DetailType === '' || DetailType.length > 128)
    return 'DetailType is required';
  if (EventBusName !== undefined && (typeof EventBusName !== 'string' || !EVENT_BUS.test(EventBusName)))
    return `EventBusName ${JSON.stringify(EventBusName)} is not a bus name or ARN`;
  if (Resources !== undefined && !(Array.isArray(Resources) && Resources.every((r) => typeof r === 'string')))
    return 'Resources must be a list of ARNs';
  if (typeof Detail === 'string') {
    try {
      const parsed: unknown = JSON.parse(Detail);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        return 'Detail must be a JSON object';
    } catch {
      return 'Detail is not valid JSON';
    }
    return undefined;
  }
  if (Detail === null || typeof Detail !== 'object' || Array.isArray(Detail))
    return 'Detail must be a JSON object';
  return undefined;
}

/** An error as a Step Functions service integration reports it: `Error` and `Cause`. */
function serviceError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}
