import { GetParameterError, TransformParameterError } from '@aws-lambda-powertools/parameters';
import { DEFAULT_PROVIDERS } from '@aws-lambda-powertools/parameters/base';
import { getSecret, SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { ExportConfigError } from '../contracts/errors';
import type { PceConnection } from '../pce/types';
import type { PceSettings } from './env';

/*
 * The PCE API key lives in Secrets Manager as JSON:
 *   {"apiKey": "api_…", "apiSecret": "…", "caBundle": "-----BEGIN CERTIFICATE-----…"}
 * (caBundle optional). It is fetched through Powertools Parameters, which caches it for
 * SECRET_CACHE_SECONDS, with the client below (which the handlers hand to the tracer). Every
 * error message names the secret id and the field involved, never a
 * value: not even the JSON parser's message, which quotes the text it failed on.
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

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** Fetches the API key from Secrets Manager and returns the connection for the configured PCE. */
export async function readPceConnection(settings: PceSettings): Promise<PceConnection> {
  const { secretId } = settings;
  let value: unknown;
  try {
    value = await getSecret(secretId, { transform: 'json', maxAge: settings.secretCacheSeconds });
  } catch (error) {
    throw secretReadError(secretId, error);
  }
  return connectionFromSecret(secretId, value, settings);
}

function secretReadError(secretId: string, error: unknown): unknown {
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
  // Throttling, timeouts and 5xx from Secrets Manager are transient: surface the SDK's own error.
  return cause;
}

/** Validates the secret's JSON value; exported for tests. */
export function connectionFromSecret(
  secretId: string,
  value: unknown,
  settings: Pick<PceSettings, 'baseUrl' | 'orgId'>,
): PceConnection {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ExportConfigError(
      `Secret ${secretId} must hold a JSON object {"apiKey": "api_…", "apiSecret": "…"} with an optional "caBundle"`,
    );
  }
  const placeholders = ['apiKey', 'apiSecret'].filter((field) => {
    const v = (value as Record<string, unknown>)[field];
    return typeof v === 'string' && PLACEHOLDERS.has(v.trim());
  });
  if (placeholders.length > 0) {
    throw new ExportConfigError(
      `Secret ${secretId} still holds the placeholder in ${placeholders.join(' and ')}; put the PCE API key's username (api_…) in apiKey and its secret in apiSecret`,
    );
  }
  const parsed = secretSchema.safeParse(value);
  if (!parsed.success) {
    const record = value as Record<string, unknown>;
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      return record[field] === undefined ? `field ${field} is missing` : `field ${field} ${issue.message}`;
    });
    throw new ExportConfigError(`Secret ${secretId} is malformed: ${problems.join('; ')}`);
  }
  const { apiKey, apiSecret, caBundle } = parsed.data;
  return {
    baseUrl: settings.baseUrl,
    orgId: settings.orgId,
    apiKey,
    apiSecret,
    ...(caBundle !== undefined && caBundle.trim() !== '' ? { caBundle } : {}),
  };
}
