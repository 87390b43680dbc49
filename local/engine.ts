import { randomUUID } from 'node:crypto';
import { CREDENTIAL_SOURCE_VARIABLE, type CredentialSource } from '../lambdas/contracts/credentials';
import type { ExportConfig } from '../lib/config';
import { configurationBody, workflowFor, writeConfiguration } from './configuration';
import { loadLocalDefinition } from './definition-cache';
import { createLocalEvents, type LocalEvents } from './events';
import { LambdaFaults } from './faults';
import { invocationsSettled, type LambdaHandler, loadHandlers } from './lambda';
import { type RunOutcome, runWorkflow, type WorkflowEvent } from './runner';
import { type LocalS3, startLocalS3 } from './s3';
import { type LocalSecrets, startLocalSecrets } from './secrets';
import type { LocalDefinition } from './stack';

export interface LocalEngineOptions {
  /**
   * Where objects go: the embedded S3-compatible server with this bucket, or an S3 endpoint
   * (real S3 when `endpoint` is left out, using the standard AWS credential chain).
   */
  readonly s3:
    | { readonly embedded: true; readonly bucket: string }
    | { readonly embedded: false; readonly endpoint?: string };
  /** Environment variables applied to every run (e.g. RETRY_AFTER_MIN_SECONDS). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The deploy configuration the stack is synthesized from (e.g. with `exampleParent`).
   * @default config/pce-export.json
   */
  readonly config?: ExportConfig;
  /**
   * Handlers to run instead of the modules the functions name, by handler name (`poll`, …), for
   * tests of how the workflow meets a function that hangs, crashes or misbehaves.
   * @default the real handler modules
   */
  readonly handlers?: Readonly<Record<string, LambdaHandler>>;
}

export interface PceTarget {
  readonly url: string;
  readonly orgId: number;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly caBundle?: string;
  /**
   * Where the caller took the key and the CA from, for the functions' messages to name
   * (`PCE_CREDENTIAL_SOURCE`). @default the fields of the local secret, as in AWS
   */
  readonly credentialSource?: CredentialSource;
}

export interface LocalRunOptions {
  readonly pce: PceTarget;
  readonly bucket: string;
  /** @default '' */
  readonly prefix?: string;
  readonly input: unknown;
  readonly executionName?: string;
  /**
   * Which PCE's workflow runs, in a configuration with several.
   * @default the input's `pce`, or the configuration's only PCE
   */
  readonly pceName?: string;
  /**
   * The HTTP(S) proxy the PCE requests go through (`PCE_PROXY_URL`, `PCE_NO_PROXY`). The deploy
   * configuration's proxy is for the deployed functions' network and is not used locally.
   * @default straight to the PCE
   */
  readonly proxy?: { readonly url: string; readonly noProxy?: readonly string[] };
  /** Configured exports by name, as the stack writes them into the configuration object. @default those of the deploy configuration */
  readonly exports?: Readonly<Record<string, unknown>>;
  /** Configured snapshots by name (lists of export names), as the stack writes them. @default those of the deploy configuration */
  readonly snapshots?: Readonly<Record<string, readonly unknown[]>>;
  readonly env?: Readonly<Record<string, string>>;
  readonly onEvent?: (event: WorkflowEvent) => void;
  /** Store the secret as this exact string instead of the JSON built from `pce` (to test bad secrets). */
  readonly rawSecret?: string;
  /** Pause before each retry, in ms by state name, instead of the definition's backoff. @default the definition's */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | readonly number[]>>;
  /**
   * How long Wait states pause, in ms by state name, instead of the seconds the definition or the
   * state gives (the seconds asked for stay in the state, for tests to read). @default the real wait
   */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Stops the execution (ABORTED), as StopExecution does. */
  readonly signal?: AbortSignal;
}

/** Faults a test can arm in the engine's stand-ins for AWS. */
interface EngineFaults {
  /** The Lambda service: ServiceException, TooManyRequestsException, ClientExecutionTimeoutException, Unknown. */
  readonly lambda: LambdaFaults;
  /** The embedded S3 (only when it is embedded): S3's errors on PutObject, the multipart calls, PutObjectTagging, DeleteObject. */
  readonly s3?: LocalS3['faults'];
  /** Secrets Manager: throttling and 5xx. */
  readonly secrets: LocalSecrets['faults'];
  /** EventBridge PutEvents: a service error or failed entries. */
  readonly events: LocalEvents['faults'];
}

export interface LocalEngine {
  readonly s3?: LocalS3;
  readonly secrets: LocalSecrets;
  /** The events the executions put on EventBridge ("Export Succeeded", "Export Failed", ...). */
  readonly events: LocalEvents;
  readonly local: LocalDefinition;
  readonly faults: EngineFaults;
  /** Runs the export workflow (of the PCE the run names, with several). */
  run(options: LocalRunOptions): Promise<RunOutcome>;
  /**
   * Runs any state machine of the stack, by local name (`PceExportWorkflow`, `ExampleParent`) or
   * construct path (`PceExport/ExampleParent/StateMachine`), with the same PCE, bucket and secret
   * settings as `run`.
   */
  runStateMachine(stateMachine: string, options: LocalRunOptions): Promise<RunOutcome>;
  close(): Promise<void>;
}

/**
 * Everything the workflow touches, on this machine: the synthesized definition, the real handler
 * modules, a Secrets Manager stand-in and (optionally) an embedded S3. The handlers reach them
 * through the standard AWS_ENDPOINT_URL_* variables, so the process can hold one engine at a time.
 */
export async function startLocalEngine(options: LocalEngineOptions): Promise<LocalEngine> {
  const secrets = await startLocalSecrets();
  const events = createLocalEvents();
  const s3 = options.s3.embedded ? await startLocalS3({ buckets: [options.s3.bucket] }) : undefined;
  const s3Endpoint = s3?.endpoint ?? (options.s3.embedded ? undefined : options.s3.endpoint);

  setEnv({
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    ...(s3Endpoint ? { AWS_ENDPOINT_URL_S3: s3Endpoint } : {}),
    AWS_REGION: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    // S3-compatible servers do not all understand the SDK's default trailing checksums.
    ...(s3Endpoint
      ? {
          AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
          AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
        }
      : {}),
    ...(s3 && !process.env.AWS_ACCESS_KEY_ID
      ? { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }
      : {}),
    POWERTOOLS_SERVICE_NAME: 'pce-export',
    // The pinned SDK runs on Node.js 20; its notice about future releases is not for this run.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED:
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ?? 'true',
    // Handler logs are Lambda's CloudWatch lines; locally the progress lines say what happened.
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'CRITICAL',
    // So are the EMF metrics, which would otherwise go to stdout with the result.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    ...options.env,
  });

  let local: LocalDefinition;
  let handlers: Record<string, LambdaHandler>;
  try {
    local = await loadLocalDefinition(options.config);
    const overrides = options.handlers ?? {};
    const modules = Object.fromEntries(
      Object.values(local.functions)
        .filter((fn) => overrides[fn.handler] === undefined)
        .map((fn) => [fn.handler, fn.module]),
    );
    handlers = { ...(await loadHandlers(modules)), ...overrides };
  } catch (error) {
    await Promise.all([secrets.close(), s3?.close()]);
    throw error;
  }

  const sessions = new RunSessions(secrets);
  const faults: EngineFaults = {
    lambda: new LambdaFaults(),
    ...(s3 ? { s3: s3.faults } : {}),
    secrets: secrets.faults,
    events: events.faults,
  };

  async function runStateMachine(stateMachine: string, run: LocalRunOptions): Promise<RunOutcome> {
    const workflow = workflowFor(local, run.pceName, run.input);
    const body = configurationBody(workflow, run);
    const configuration =
      body === undefined ? {} : await writeConfiguration(run.bucket, run.prefix ?? '', body);
    const leave = await sessions.enter(
      run.rawSecret ??
        JSON.stringify({
          apiKey: run.pce.apiKey,
          apiSecret: run.pce.apiSecret,
          ...(run.pce.caBundle ? { caBundle: run.pce.caBundle } : {}),
        }),
      (secretId) => ({
        PCE_URL: run.pce.url,
        PCE_ORG_ID: String(run.pce.orgId),
        PCE_SECRET_ID: secretId,
        ...(run.pce.credentialSource
          ? { [CREDENTIAL_SOURCE_VARIABLE]: JSON.stringify(run.pce.credentialSource) }
          : {}),
        EXPORT_BUCKET: run.bucket,
        EXPORT_PREFIX: run.prefix ?? '',
        // Unset when the workflow has none: the functions then resolve no configured names.
        EXPORTS_CONFIG_BUCKET: configuration.EXPORTS_CONFIG_BUCKET ?? '',
        EXPORTS_CONFIG_KEY: configuration.EXPORTS_CONFIG_KEY ?? '',
        EXPORTS_CONFIG_SHA256: configuration.EXPORTS_CONFIG_SHA256 ?? '',
        PCE_NAME: workflow.identity.PCE_NAME ?? '',
        PCE_NAMES: workflow.identity.PCE_NAMES ?? '',
        PCE_PROXY_URL: run.proxy?.url ?? '',
        PCE_NO_PROXY: run.proxy?.noProxy?.join(',') ?? '',
        ...run.env,
      }),
    );
    try {
      return await runWorkflow({
        local,
        handlers,
        input: run.input,
        stateMachine,
        executionName: run.executionName,
        onEvent: run.onEvent,
        events,
        retryIntervalOverrides: run.retryIntervalOverrides,
        waitTimeOverrides: run.waitTimeOverrides,
        lambdaFaults: faults.lambda,
        signal: run.signal,
      });
    } finally {
      await invocationsSettled();
      leave();
    }
  }

  return {
    s3,
    secrets,
    events,
    local,
    faults,
    run: async (run) => runStateMachine(workflowFor(local, run.pceName, run.input).stateMachine, run),
    runStateMachine,
    async close() {
      await Promise.all([secrets.close(), s3?.close()]);
    },
  };
}

/**
 * The handlers read their configuration from the process environment, which runs in one engine
 * share. Runs with the same secret and settings overlap freely on one stored secret and one set of
 * variables, put back when the last of them ends; a run with other settings waits until then, so
 * that no run ever sees another's PCE, bucket or secret, or finds its variables gone.
 */
class RunSessions {
  private current?: {
    readonly key: string;
    readonly secretId: string;
    runs: number;
    readonly restore: () => void;
    readonly ended: Promise<void>;
    readonly end: () => void;
  };

  constructor(private readonly secrets: LocalSecrets) {}

  /** Waits for a compatible session, joins it and returns the function that leaves it. */
  async enter(
    secretString: string,
    envFor: (secretId: string) => Readonly<Record<string, string>>,
  ): Promise<() => void> {
    const key = JSON.stringify([secretString, envFor('')]);
    while (this.current && this.current.key !== key) await this.current.ended;
    if (!this.current) {
      const secretId = `pce-export/local/${randomUUID()}`;
      this.secrets.put(secretId, secretString);
      let end = () => {};
      const ended = new Promise<void>((resolve) => {
        end = resolve;
      });
      this.current = { key, secretId, runs: 0, restore: setEnv(envFor(secretId)), ended, end };
    }
    const session = this.current;
    session.runs++;
    return () => {
      session.runs--;
      if (session.runs > 0) return;
      this.secrets.delete(session.secretId);
      session.restore();
      this.current = undefined;
      session.end();
    };
  }
}

/** Sets environment variables and returns a function that puts the previous values back. */
function setEnv(values: Readonly<Record<string, string>>): () => void {
  const previous = Object.keys(values).map((key) => [key, process.env[key]] as const);
  for (const [key, value] of Object.entries(values)) process.env[key] = value;
  return () => {
    for (const [key, value] of previous) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
