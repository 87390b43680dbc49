import * as z from 'zod';

/*
 * Where the functions take the PCE API key and the CA they trust from, as their messages name it,
 * and those messages, each written once in terms of it. The deployed functions read all three
 * from their Secrets Manager secret, the default; a runner that takes them from elsewhere (the
 * command line: PCE_API_KEY, PCE_API_SECRET and --ca-file) describes its source in
 * PCE_CREDENTIAL_SOURCE, so that a 401, an untrusted certificate or a placeholder key names what
 * the user can change.
 */

/** The Lambda environment variable that describes another source, as JSON of `credentialSourceSchema`. */
export const CREDENTIAL_SOURCE_VARIABLE = 'PCE_CREDENTIAL_SOURCE';

// biome-ignore lint/suspicious/noControlCharactersInRegex: a name in a message holds no control characters
const NAME = z.string().regex(/^[^\u0000-\u001f\u007f]{1,300}$/);

export const credentialSourceSchema = z.strictObject({
  /** What holds all three, when one thing does: `secret pce-export/api-key`. */
  store: NAME.optional(),
  /** Where the API key's username is set: `apiKey` (in the store), `PCE_API_KEY`. */
  apiKey: NAME,
  /** Where its secret is set: `apiSecret`, `PCE_API_SECRET`. */
  apiSecret: NAME,
  /** Where the PEM of a private CA is given: `caBundle`, `--ca-file`. */
  caBundle: NAME,
});

export type CredentialSource = z.infer<typeof credentialSourceSchema>;

export type Credential = 'apiKey' | 'apiSecret' | 'caBundle';

/** The deployed functions' source: the fields of their secret (`secretId` when it is known). */
export function secretSource(secretId?: string): CredentialSource {
  return {
    store: secretId === undefined ? 'the secret' : `secret ${secretId}`,
    apiKey: 'apiKey',
    apiSecret: 'apiSecret',
    caBundle: 'caBundle',
  };
}

/** A sentence that starts with the store: `Secret pce-export/api-key …`. */
const opening = (store: string) => `${store.charAt(0).toUpperCase()}${store.slice(1)}`;

/** One credential where it is set: `the secret's caBundle field`; `PCE_API_KEY`. */
function where(source: CredentialSource, credential: Credential): string {
  const name = source[credential];
  return source.store === undefined ? name : `${source.store}'s ${name} field`;
}

/** `apiKey and apiSecret`; `PCE_API_KEY`. */
function names(source: CredentialSource, credentials: readonly Credential[]): string {
  const all = credentials.map((credential) => source[credential]);
  return all.length > 1 ? `${all.slice(0, -1).join(', ')} and ${all.at(-1)}` : (all[0] ?? '');
}

/** The advice after a 401 or 403. */
export function authAdvice(source: CredentialSource): string {
  const pair = source.store ?? names(source, ['apiKey', 'apiSecret']);
  return `Check the API key and secret in ${pair} and that the key's user may read this resource.`;
}

/** The advice after a certificate that is not trusted. */
export function privateCaAdvice(source: CredentialSource): string {
  return `If the PCE's certificate is issued by a private CA, put that CA's PEM in ${where(source, 'caBundle')}.`;
}

/** The key still holds the values a fresh deployment's placeholder secret has. */
export function placeholderMessage(source: CredentialSource, credentials: readonly Credential[]): string {
  const what =
    source.store === undefined
      ? `${names(source, credentials)} still ${credentials.length === 1 ? 'holds' : 'hold'} the placeholder`
      : `${opening(source.store)} still holds the placeholder in ${names(source, credentials)}`;
  return `${what}; put the PCE API key's username (api_…) in ${source.apiKey} and its secret in ${source.apiSecret}`;
}

/** What is wrong with the values of the store (or, without one, of each place): `Secret … is malformed: field apiKey must …`. */
export function malformedMessage(
  source: CredentialSource,
  problems: readonly { readonly credential: Credential; readonly problem: string }[],
): string {
  const field = (credential: Credential) =>
    source.store === undefined ? source[credential] : `field ${source[credential]}`;
  const text = problems.map(({ credential, problem }) => `${field(credential)} ${problem}`).join('; ');
  return source.store === undefined ? text : `${opening(source.store)} is malformed: ${text}`;
}

/** One credential and what is wrong with it: `PCE_API_KEY must not contain ":"`. */
export function credentialIssue(source: CredentialSource, credential: Credential, problem: string): string {
  return `${opening(where(source, credential))} ${problem}`;
}

/** A certificate of the CA bundle that does not parse (1-based `index`). */
export function certificateIssue(source: CredentialSource, index: number): string {
  return `Certificate ${index} of ${where(source, 'caBundle')} cannot be parsed`;
}
