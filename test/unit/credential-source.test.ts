import { MockAgent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  authAdvice,
  type CredentialSource,
  certificateIssue,
  credentialIssue,
  malformedMessage,
  placeholderMessage,
  privateCaAdvice,
  secretSource,
} from '../../lambdas/contracts/credentials';
import { ExportConfigError } from '../../lambdas/contracts/errors';
import { readPceSettings } from '../../lambdas/export/env';
import { PceClientCache } from '../../lambdas/export/pce-clients';
import { connectionFromSecret } from '../../lambdas/export/secret';
import { createPceClient, type PceClient } from '../../lambdas/pce/client';
import { PceAuthError } from '../../lambdas/pce/errors';
import type { PceConnection } from '../../lambdas/pce/types';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

const ORIGIN = 'https://pce.example.com:8443';
const KEY = 'api_1a2b3c4d';
const SECRET = 'the-api-secret-7f3e';
const ENVIRONMENT: CredentialSource = {
  apiKey: 'PCE_API_KEY',
  apiSecret: 'PCE_API_SECRET',
  caBundle: '--ca-file ca.pem',
};
const SECRET_ID = 'pce-export/api-key';
const PCE_ENV = { PCE_URL: ORIGIN, PCE_ORG_ID: '1', PCE_SECRET_ID: SECRET_ID };

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );
}

function thrown(act: () => unknown): Error {
  try {
    act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('the messages that say where a credential is set', () => {
  it.each<[string, (source: CredentialSource) => string, string, string]>([
    [
      'the advice after a 401',
      authAdvice,
      "Check the API key and secret in the secret and that the key's user may read this resource.",
      "Check the API key and secret in PCE_API_KEY and PCE_API_SECRET and that the key's user may read this resource.",
    ],
    [
      'the advice after an untrusted certificate',
      privateCaAdvice,
      "If the PCE's certificate is issued by a private CA, put that CA's PEM in the secret's caBundle field.",
      "If the PCE's certificate is issued by a private CA, put that CA's PEM in --ca-file ca.pem.",
    ],
    [
      'a placeholder key',
      (source) => placeholderMessage(source, ['apiKey']),
      "The secret still holds the placeholder in apiKey; put the PCE API key's username (api_…) in apiKey and its secret in apiSecret",
      "PCE_API_KEY still holds the placeholder; put the PCE API key's username (api_…) in PCE_API_KEY and its secret in PCE_API_SECRET",
    ],
    [
      'a malformed key and CA',
      (source) =>
        malformedMessage(source, [
          { credential: 'apiKey', problem: 'must not contain ":"' },
          { credential: 'caBundle', problem: 'must be PEM certificates' },
        ]),
      'The secret is malformed: field apiKey must not contain ":"; field caBundle must be PEM certificates',
      'PCE_API_KEY must not contain ":"; --ca-file ca.pem must be PEM certificates',
    ],
    [
      'a missing secret',
      (source) => credentialIssue(source, 'apiSecret', 'is missing'),
      "The secret's apiSecret field is missing",
      'PCE_API_SECRET is missing',
    ],
    [
      'a certificate that does not parse',
      (source) => certificateIssue(source, 2),
      "Certificate 2 of the secret's caBundle field cannot be parsed",
      'Certificate 2 of --ca-file ca.pem cannot be parsed',
    ],
  ])('word %s for the secret and for another source', (_what, message, inSecret, elsewhere) => {
    expect(message(secretSource())).toBe(inSecret);
    expect(message(ENVIRONMENT)).toBe(elsewhere);
  });

  it('name the secret by its id where it is known', () => {
    expect(placeholderMessage(secretSource(SECRET_ID), ['apiKey', 'apiSecret'])).toMatch(
      /^Secret pce-export\/api-key still holds the placeholder in apiKey and apiSecret; /,
    );
  });
});

describe('PCE_CREDENTIAL_SOURCE in the functions environment', () => {
  it('is absent from the deployed functions, whose messages name their secret', () => {
    const settings = readPceSettings(PCE_ENV);

    expect(settings.credentialSource).toBeUndefined();
    const error = thrown(() =>
      connectionFromSecret(SECRET_ID, { apiKey: 'api_REPLACE_ME', apiSecret: SECRET }, settings),
    );
    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toMatch(/^Secret pce-export\/api-key still holds the placeholder in apiKey; /);
  });

  it('names where the secret values came from when a runner describes it', () => {
    const settings = readPceSettings({ ...PCE_ENV, PCE_CREDENTIAL_SOURCE: JSON.stringify(ENVIRONMENT) });

    expect(settings.credentialSource).toEqual(ENVIRONMENT);
    expect(
      thrown(() => connectionFromSecret(SECRET_ID, { apiKey: 'api_REPLACE_ME', apiSecret: SECRET }, settings))
        .message,
    ).toBe(
      "PCE_API_KEY still holds the placeholder; put the PCE API key's username (api_…) in PCE_API_KEY and its secret in PCE_API_SECRET",
    );
    expect(
      thrown(() =>
        connectionFromSecret(SECRET_ID, { apiKey: KEY, apiSecret: SECRET, caBundle: 'not pem' }, settings),
      ).message,
    ).toBe('--ca-file ca.pem must be PEM certificates (-----BEGIN CERTIFICATE----- …)');
    expect(connectionFromSecret(SECRET_ID, { apiKey: KEY, apiSecret: SECRET }, settings)).toMatchObject({
      credentialSource: ENVIRONMENT,
    });
  });

  it.each([
    ['not JSON', 'PCE_API_KEY'],
    ['a field missing', JSON.stringify({ apiKey: 'PCE_API_KEY', apiSecret: 'PCE_API_SECRET' })],
    ['an unknown field', JSON.stringify({ ...ENVIRONMENT, region: 'x' })],
    ['a control character', JSON.stringify({ ...ENVIRONMENT, apiKey: 'PCE_API_KEY\n' })],
  ])('fails with ExportConfigError naming the variable when it is %s', (_what, value) => {
    const error = thrown(() => readPceSettings({ ...PCE_ENV, PCE_CREDENTIAL_SOURCE: value }));

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain('Environment variable PCE_CREDENTIAL_SOURCE must be');
  });
});

describe('the PCE client with a described source', () => {
  function client(connection: Partial<PceConnection>): { agent: MockAgent; client: PceClient } {
    const agent = new MockAgent();
    agent.disableNetConnect();
    const made = createPceClient(
      { baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET, ...connection },
      { dispatcher: agent },
    );
    cleanups.push(async () => {
      await made.close();
      await agent.close();
    });
    return { agent, client: made };
  }

  it('names the source after a 401', async () => {
    const { agent, client: pce } = client({ credentialSource: ENVIRONMENT });
    agent.get(ORIGIN).intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' }).reply(401, '');

    const error = await failure(pce.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(PceAuthError);
    expect(error.message).toContain('Check the API key and secret in PCE_API_KEY and PCE_API_SECRET and');
  });

  it('names the source after a certificate it does not trust', async () => {
    const { agent, client: pce } = client({ credentialSource: ENVIRONMENT });
    agent
      .get(ORIGIN)
      .intercept({ path: '/api/v2/orgs/1/labels', method: 'GET' })
      .replyWithError(
        Object.assign(new Error('self-signed certificate in chain'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
      );

    const error = await failure(pce.collections.submit({ path: '/labels' }));

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toContain("put that CA's PEM in --ca-file ca.pem.");
  });

  it('names the source of a CA bundle that does not parse, before sending anything', () => {
    const bundle = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';

    const error = thrown(() => client({ caBundle: bundle, credentialSource: ENVIRONMENT }));

    expect(error).toBeInstanceOf(ExportConfigError);
    expect(error.message).toBe('Certificate 1 of --ca-file ca.pem cannot be parsed');
  });

  it('is cached apart from the same key read from the secret', () => {
    const cache = new PceClientCache(() => ({ close: async () => undefined }) as unknown as PceClient);
    const connection: PceConnection = { baseUrl: ORIGIN, orgId: 1, apiKey: KEY, apiSecret: SECRET };

    const fromSecret = cache.get(connection);
    const described = cache.get({ ...connection, credentialSource: ENVIRONMENT });

    expect(described).not.toBe(fromSecret);
    expect(cache.get({ ...connection, credentialSource: ENVIRONMENT })).toBe(described);
  });
});
