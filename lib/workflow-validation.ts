import { Token } from 'aws-cdk-lib';
import { type ExportInput, exportInputSchema } from '../lambdas/contracts/input';
import { MAX_SNAPSHOT_MEMBERS, MAX_SUBMIT_RETRY_WINDOW_SECONDS } from '../lambdas/contracts/limits';
import {
  EXPORT_NAME,
  EXPORT_NAME_RULE,
  keyPrefixIssue,
  orgIdIssue,
  pceUrlIssue,
} from '../lambdas/contracts/patterns';
import { describeIssues, kindIssues } from '../lambdas/export/input';
import type { ExportWorkflowProps } from './export-workflow';
import { MAX_TRAFFIC_WINDOW_CONCURRENCY, WINDOW_SLOT_REQUESTS_PER_MINUTE } from './traffic-fanout';

/*
 * Synth-time checks of the workflow construct's props: each failure names the construct path
 * and the field, as aws-cdk's own constructs do.
 */

/** At most one poll a second each: 8 exports polling flat out stay below 500 requests a minute. */
const MAX_SNAPSHOT_CONCURRENCY = 8;

export class WorkflowPropsValidator {
  /** `path` is the construct's path, named in every message. */
  constructor(private readonly path: string) {}

  validate(
    props: ExportWorkflowProps,
    resolved: {
      prefix: string;
      exports: Readonly<Record<string, ExportInput>>;
      maxPollIntervalSeconds: number;
      submitRetryWindowSeconds: number;
    },
  ): void {
    const fail = (field: string, issue: string): never => {
      throw new Error(`${this.path}: ${field} ${issue}`);
    };
    const urlIssue = Token.isUnresolved(props.pceUrl) ? undefined : pceUrlIssue(props.pceUrl);
    if (urlIssue) fail('pceUrl', urlIssue);
    const orgIssue = Token.isUnresolved(props.orgId) ? undefined : orgIdIssue(props.orgId);
    if (orgIssue) fail('orgId', orgIssue);
    const prefixIssue = Token.isUnresolved(resolved.prefix) ? undefined : keyPrefixIssue(resolved.prefix);
    if (prefixIssue) fail('prefix', prefixIssue);
    const interval = resolved.maxPollIntervalSeconds;
    if (!Number.isInteger(interval) || interval < 1 || interval > 3600) {
      fail('maxPollIntervalSeconds', `must be an integer from 1 to 3600 (got ${interval})`);
    }
    const window = resolved.submitRetryWindowSeconds;
    if (!Number.isInteger(window) || window < 0 || window > MAX_SUBMIT_RETRY_WINDOW_SECONDS) {
      fail(
        'submitRetryWindowSeconds',
        `must be an integer from 0 to ${MAX_SUBMIT_RETRY_WINDOW_SECONDS} (got ${window})`,
      );
    }
    const memory = props.fetchMemorySize;
    if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10_240)) {
      fail('fetchMemorySize', `must be an integer from 128 to 10240 MB (got ${memory})`);
    }
    if (props.stateMachineName !== undefined && !/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
      fail('stateMachineName', 'must be 1 to 80 letters, digits, "_" or "-"');
    }
    for (const [name, input] of Object.entries(resolved.exports)) {
      const field = `exports[${JSON.stringify(name)}]`;
      const named = exportInputSchema.safeParse({ exportName: name });
      if (!named.success) fail(field, `has an invalid name: ${describeIssues(named.error, 'exportName')}`);
      const parsed = exportInputSchema.safeParse(input);
      if (!parsed.success) fail(field, `is not a valid export input: ${describeIssues(parsed.error, field)}`);
      if (input.exportName !== undefined && input.exportName !== name) {
        fail(`${field}.exportName`, `must be "${name}", the key it is configured under`);
      }
      for (const issue of kindIssues(input)) fail(`${field}.${issue.field}`, issue.message);
      if ((input.kind ?? 'collection') === 'collection' && input.path === undefined) {
        fail(`${field}.path`, 'is required for a configured collection export');
      }
    }
  }

  validateSnapshots(
    exports: Readonly<Record<string, ExportInput>>,
    snapshots: Readonly<Record<string, readonly string[]>>,
    maxConcurrency: number,
  ): void {
    const fail = (field: string, issue: string): never => {
      throw new Error(`${this.path}: ${field} ${issue}`);
    };
    if (
      !Number.isInteger(maxConcurrency) ||
      maxConcurrency < 1 ||
      maxConcurrency > MAX_SNAPSHOT_CONCURRENCY
    ) {
      fail(
        'snapshotMaxConcurrency',
        `must be an integer from 1 to ${MAX_SNAPSHOT_CONCURRENCY} (got ${maxConcurrency}): each running export may poll once a second, and the PCE allows 500 requests a minute`,
      );
    }
    for (const [name, members] of Object.entries(snapshots)) {
      const field = `snapshots[${JSON.stringify(name)}]`;
      if (!EXPORT_NAME.test(name)) {
        fail(field, `has an invalid name: ${EXPORT_NAME_RULE}`);
      }
      if (members.length < 1 || members.length > MAX_SNAPSHOT_MEMBERS) {
        fail(field, `must list 1 to ${MAX_SNAPSHOT_MEMBERS} exports, not ${members.length}`);
      }
      members.forEach((member, index) => {
        if (exports[member] === undefined)
          fail(`${field}[${index}]`, `names export "${member}", which is not configured`);
        if (members.indexOf(member) !== index) fail(`${field}[${index}]`, `repeats export "${member}"`);
      });
    }
  }

  /** The traffic run's concurrency: the slots' requests together stay under the PCE's limit. */
  validateTraffic(windowConcurrency: number): void {
    if (
      !Number.isInteger(windowConcurrency) ||
      windowConcurrency < 1 ||
      windowConcurrency > MAX_TRAFFIC_WINDOW_CONCURRENCY
    ) {
      throw new Error(
        `${this.path}: trafficWindowConcurrency must be an integer from 1 to ${MAX_TRAFFIC_WINDOW_CONCURRENCY} (got ${windowConcurrency}): each window slot may make ${WINDOW_SLOT_REQUESTS_PER_MINUTE} requests a minute of the PCE's 500`,
      );
    }
  }
}
