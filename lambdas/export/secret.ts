import { GetParameterError, TransformParameterError } from '@aws-lambda-powertools/parameters';
import { DEFAULT_PROVIDERS } from '@aws-lambda-powertools/parameters/base';
import { getSecret, SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import {
  type Credential,
  malformedMessage,
  placeholderMessage,
  secretSource,
} from '../contracts/credentials';
import { ExportConfigError } from '../contracts/errors';
import type { PceConnection } from '../pce/types';
import type { PceSettings } from './env';
import { ExportInternalError } from './errors';

/*
 * The PCE API key lives in Secrets Manager as JSON:
 *   {"apiKey": "api_…", "apiSecret": "…", "caBundle": "-----BEGIN CERTIFICATE-----…"}
 * (caBundle optional). It is fetched through Powertools Parameters, which caches it for
 * SECRET_CACHE_SECONDS, with the client below (which the handlers hand to the tracer). Every
 * error message names the secret id and the field involved (or, when PCE_CREDENTIAL_SOURCE says
 * the values come from elsewhere, where they come from), never a
 * value: not even the JSON parser's message, which quotes the text it failed on.
 *
 * Throttling, 5xx and network failures of Secrets Manager are retried here, with backoff and full
 * jitter, on top of the SDK's own retries; one that persists becomes ExportInternalError naming
 * the secret and the service's error code. Errors that configuration must fix become
 * ExportConfigError at once.
 */

/** Values the stack's placeholder secret holds until someone fills it in. */
const PLACEHOLDERS: ReadonlySet<string> = new Set(['api_REPLACE_ME', 'REPLACE_ME']);

/** Secrets Manager errors that mean "fix the secret or the permissions", not "try again". */
const CONFIGURATION_FAILURES: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'AccessDeniedException',
  'AccessDeniedError',
  'DecryptionFailure',
  'InvalidRequestException',
  'InvalidParameterException',
  'ParameterNotFoundError',
]);

const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';
// Basic auth's user part cannot hold ":"; neither value may hold control characters or spaces.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const TOKEN = /^[^\s:\u0000-\u001f\u007f]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const SECRET_TOKEN = /^[^\u0000-\u001f\u007f]+$/;

/** The secret's shape. Messages are fixed sentences so that no value can leak into them. */
const secretSchema = z.object({
  apiKey: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .regex(TOKEN, { error: 'must be the API key username (api_…) without spaces or ":"' }),
  apiSecret: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .regex(SECRET_TOKEN, { error: 'must not contain control characters' }),
  caBundle: z
    .string({ error: 'must be a string of PEM certificates' })
    .refine((v) => v.trim() === '' || v.includes(PEM_CERTIFICATE), {
      error: `must be PEM certificates (${PEM_CERTIFICATE} …)`,
    })
    .optional(),
});

/** The Secrets Manager client the secret is read with; the endpoint comes from AWS_ENDPOINT_URL_SECRETS_MANAGER when set. */
export const secretsManager = new SecretsManagerClient({});
// getSecret's provider, made with that client (and emptied by Powertools' clearCaches()).
DEFAULT_PROVIDERS.secrets = new SecretsProvider({ awsSdkV3Client: secretsManager });

/** Secrets Manager errors that go away by themselves: throttling and the service's own failures. */
const TRANSIENT_FAILURES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalServiceErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
]);

/** Network failures on the way to Secrets Manager. */
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Reads of the secret, the first included, before a transient failure is final. */
const SECRET_READ_ATTEMPTS = 4;
/** The first backoff, doubled for each further attempt (full jitter). */
const SECRET_RETRY_BASE_MS = 1000;

export interface SecretRuntime {
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Fetches the API key from Secrets Manager and returns the connection for the configured PCE. */
export async function readPceConnection(
  settings: PceSettings,
  runtime: SecretRuntime = {},
): Promise<PceConnection> {
  const { secretId } = settings;
  const sleep = runtime.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = runtime.random ?? Math.random;
  let value: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      value = await getSecret(secretId, { transform: 'json', maxAge: settings.secretCacheSeconds });
      break;
    } catch (error) {
      const failure = secretReadError(secretId, error, attempt);
      if (!(failure instanceof TransientSecretFailure)) throw failure;
      if (attempt >= SECRET_READ_ATTEMPTS) throw failure.final();
      await sleep(Math.floor(random() * SECRET_RETRY_BASE_MS * 2 ** (attempt - 1)));
    }
  }
  return connectionFromSecret(secretId, value, settings);
}

/** A failure worth another read; `final()` is the error once there are none left. */
class TransientSecretFailure {
  constructor(
    private readonly secretId: string,
    private readonly cause: unknown,
    private readonly attempts: number,
  ) {}

  final(): ExportInternalError {
    const code = errorName(this.cause) ?? 'an unknown error';
    const status = (this.cause as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata
      ?.httpStatusCode;
    return new ExportInternalError(
      `Secrets Manager kept failing to return secret ${this.secretId} (${code}${typeof status === 'number' ? `, HTTP ${status}` : ''}) after ${this.attempts} reads with backoff; try again later`,
      { cause: this.cause },
    );
  }
}

function isTransient(error: unknown): boolean {
  const name = errorName(error);
  if (name !== undefined && TRANSIENT_FAILURES.has(name)) return true;
  const details = error as { $metadata?: { httpStatusCode?: unknown }; $retryable?: unknown; code?: unknown };
  const status = details?.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return true;
  if (details?.$retryable !== undefined && details.$retryable !== null) return true;
  return typeof details?.code === 'string' && TRANSIENT_CODES.has(details.code);
}

function secretReadError(secretId: string, error: unknown, attempt: number): unknown {
  if (error instanceof TransformParameterError) {
    // Deliberately no cause: the parser's message quotes part of the secret.
    return new ExportConfigError(
      `Secret ${secretId} is not valid JSON; it must be {"apiKey": "api_…", "apiSecret": "…"} with an optional "caBundle"`,
    );
  }
  const cause = error instanceof GetParameterError && error.cause !== undefined ? error.cause : error;
  const name = errorName(cause);
  if (name === 'ResourceNotFoundException' || name === 'ParameterNotFoundError') {
    return new ExportConfigError(`Secret ${secretId} was not found, or has no current value`, { cause });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDeniedError') {
    return new ExportConfigError(
      `Access to secret ${secretId} was denied; grant secretsmanager:GetSecretValue`,
      {
        cause,
      },
    );
  }
  if (name !== undefined && CONFIGURATION_FAILURES.has(name)) {
    return new ExportConfigError(`Secret ${secretId} cannot be read (${name})`, { cause });
  }
  if (isTransient(cause)) return new TransientSecretFailure(secretId, cause, attempt);
  return new ExportInternalError(
    `Reading secret ${secretId} from Secrets Manager failed with ${name ?? 'an error that is not an Error'}`,
    { cause },
  );
}

/**
 * Validates the secret's JSON value. Messages about its fields name them where
 * `settings.credentialSource` says they come from (by default, the fields of secret `secretId`).
 */
export function connectionFromSecret(
  secretId: string,
  value: unknown,
  settings: Pick<PceSettings, 'baseUrl' | 'orgId' | 'credentialSource'>,
): PceConnection {
  const source = settings.credentialSource ?? secretSource(secretId);
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExportConfigError(
      `Secret ${secretId} must hold a JSON object {"apiKey": "api_…", "apiSecret": "…"} with an optional "caBundle"`,
    );
  }
  const placeholders = (['apiKey', 'apiSecret'] as const).filter((field) => {
    const v = (value as Record<string, unknown>)[field];
    return typeof v === 'string' && PLACEHOLDERS.has(v.trim());
  });
  if (placeholders.length > 0) throw new ExportConfigError(placeholderMessage(source, placeholders));
  const parsed = secretSchema.safeParse(value);
  if (!parsed.success) {
    const record = value as Record<string, unknown>;
    const problems = parsed.error.issues.map((issue) => {
      const credential = issue.path[0] as Credential;
      return { credential, problem: record[credential] === undefined ? 'is missing' : issue.message };
    });
    throw new ExportConfigError(malformedMessage(source, problems));
  }
  const { apiKey, apiSecret, caBundle } = parsed.data;
  return {
    baseUrl: settings.baseUrl,
    orgId: settings.orgId,
    apiKey,
    apiSecret,
    ...(caBundle !== undefined && caBundle.trim() !== '' ? { caBundle } : {}),
    ...(settings.credentialSource === undefined ? {} : { credentialSource: settings.credentialSource }),
  };
}
