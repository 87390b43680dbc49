import { clearCaches } from '@aws-lambda-powertools/parameters';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import type { PceSettings } from '../../lambdas/export/env';
import { ExportInternalError } from '../../lambdas/export/errors';
import { connectionFromSecret, readPceConnection } from '../../lambdas/export/secret';

const secretsMock = mockClient(SecretsManagerClient);
const SECRET_ID = 'pce-export/api-key';
const API_SECRET = 'sup3r-s3cret-v4lue';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const settings: PceSettings = {
  baseUrl: 'https://pce.example.com:8443',
  orgId: 1,
  secretId: SECRET_ID,
  secretCacheSeconds: 0,
  retryAfter: { minSeconds: 1, maxSeconds: 300, defaultSeconds: 5 },
};

function secretString(value: string): void {
  secretsMock.on(GetSecretValueCommand, { SecretId: SECRET_ID }).resolves({ SecretString: value });
}

async function failure(): Promise<Error> {
  const error = await readPceConnection(settings).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected readPceConnection to fail');
  return error;
}

beforeEach(() => {
  secretsMock.reset();
  clearCaches();
});

afterEach(() => {
  secretsMock.reset();
});

describe('readPceConnection', () => {
  it('returns the connection for the configured PCE with the key, secret and CA bundle', async () => {
    secretString(JSON.stringify({ apiKey: 'api_1a2b3c', apiSecret: API_SECRET, caBundle: CA }));

    await expect(readPceConnection(settings)).resolves.toEqual({
      baseUrl: 'https://pce.example.com:8443',
      orgId: 1,
      apiKey: 'api_1a2b3c',
      apiSecret: API_SECRET,
      caBundle: CA,
    });
  });

  it('leaves caBundle out when it is absent or empty', async () => {
    secretString(JSON.stringify({ apiKey: 'api_1a2b3c', apiSecret: API_SECRET, caBundle: '' }));

    const connection = await readPceConnection(settings);

    expect(connection).not.toHaveProperty('caBundle');
  });

  it('reuses the secret within SECRET_CACHE_SECONDS', async () => {
    secretString(JSON.stringify({ apiKey: 'api_1a2b3c', apiSecret: API_SECRET }));

    await readPceConnection({ ...settings, secretCacheSeconds: 60 });
    await readPceConnection({ ...settings, secretCacheSeconds: 60 });

    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails with ExportConfigError naming the secret when it does not exist', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    );

    const error = await failure();

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toBe(`Secret ${SECRET_ID} was not found, or has no current value`);
  });

  it('fails with ExportConfigError when access is denied', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: {},
        message: 'not authorized',
      }),
    );

    const error = await failure();

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain(`Access to secret ${SECRET_ID} was denied`);
  });

  const throttled = () =>
    new SecretsManagerServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
      message: 'Rate exceeded',
    });

  it('reads the secret again, with backoff, when Secrets Manager throttles, and returns it', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ SecretString: JSON.stringify({ apiKey: 'api_1a2b3c', apiSecret: API_SECRET }) });
    const pauses: number[] = [];

    const connection = await readPceConnection(settings, {
      sleep: async (ms) => {
        pauses.push(ms);
      },
      random: () => 1,
    });

    expect(connection.apiKey).toBe('api_1a2b3c');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(3);
    expect(pauses).toEqual([1000, 2000]);
  });

  it('fails with ExportInternalError naming the secret and the code once throttling persists through every read', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(throttled());

    const error = await readPceConnection(settings, { sleep: async () => {} }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(error).toBeInstanceOf(ExportInternalError);
    expect(error?.message).toContain(`secret ${SECRET_ID}`);
    expect(error?.message).toContain('ThrottlingException');
    expect(error?.message).toContain('after 4 reads');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(4);
  });

  it('retries a 5xx of Secrets Manager the same way', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .rejectsOnce(
        new SecretsManagerServiceException({
          name: 'InternalServiceError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'An error occurred on the server side.',
        }),
      )
      .resolves({ SecretString: JSON.stringify({ apiKey: 'api_1a2b3c', apiSecret: API_SECRET }) });

    const connection = await readPceConnection(settings, { sleep: async () => {} });

    expect(connection.apiSecret).toBe(API_SECRET);
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('fails at once with ExportInternalError on an error it does not know, never under the SDK name alone', async () => {
    secretsMock.on(GetSecretValueCommand).rejects(
      new SecretsManagerServiceException({
        name: 'SomethingNewException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'new',
      }),
    );

    const error = await failure();

    expect(error).toBeInstanceOf(ExportInternalError);
    expect(error.message).toContain('SomethingNewException');
    expect(secretsMock.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('fails with ExportConfigError when the secret is not JSON, without quoting it', async () => {
    secretString(`apiKey=api_1a2b3c apiSecret=${API_SECRET}`);

    const error = await failure();

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain(`Secret ${SECRET_ID} is not valid JSON`);
    expect(error.message).not.toContain(API_SECRET);
    expect(error.message).not.toContain('api_1a2b3c');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['apiKey', { apiKey: 'api_REPLACE_ME', apiSecret: API_SECRET }],
    ['apiSecret', { apiKey: 'api_1a2b3c', apiSecret: 'REPLACE_ME' }],
    ['apiKey and apiSecret', { apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' }],
  ])('fails with ExportConfigError when the placeholder is still in %s', async (fields, value) => {
    secretString(JSON.stringify(value));

    const error = await failure();

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain(`Secret ${SECRET_ID} still holds the placeholder in ${fields}`);
    expect(error.message).not.toContain(API_SECRET);
  });

  it.each([
    ['apiSecret', 'is missing', { apiKey: 'api_1a2b3c' }],
    ['apiKey', 'is missing', { apiSecret: API_SECRET }],
    ['apiKey', 'must be a string', { apiKey: 42, apiSecret: API_SECRET }],
    [
      'apiKey',
      'must be the API key username (api_…) without spaces or ":"',
      { apiKey: `api_1:${API_SECRET}`, apiSecret: API_SECRET },
    ],
    ['apiSecret', 'must not be empty', { apiKey: 'api_1a2b3c', apiSecret: '' }],
    [
      'caBundle',
      'must be PEM certificates',
      { apiKey: 'api_1a2b3c', apiSecret: API_SECRET, caBundle: 'not pem' },
    ],
  ])('fails with ExportConfigError naming field %s: %s', async (field, problem, value) => {
    secretString(JSON.stringify(value));

    const error = await failure();

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain(`Secret ${SECRET_ID} is malformed: field ${field} ${problem}`);
    expect(error.message).not.toContain(API_SECRET);
  });
});

describe('connectionFromSecret', () => {
  it.each([[null], [[1, 2]], ['a string'], [undefined]])('rejects %j as not an object', (value) => {
    expect(() => connectionFromSecret(SECRET_ID, value, settings)).toThrow(
      new ExportConfigError(
        `Secret ${SECRET_ID} must hold a JSON object {"apiKey": "api_…", "apiSecret": "…"} with an optional "caBundle"`,
      ),
    );
  });

  it('ignores extra fields in the secret', () => {
    expect(
      connectionFromSecret(SECRET_ID, { apiKey: 'api_x', apiSecret: 's', note: 'rotated 2026-01' }, settings),
    ).toEqual({
      baseUrl: settings.baseUrl,
      orgId: 1,
      apiKey: 'api_x',
      apiSecret: 's',
    });
  });
});
