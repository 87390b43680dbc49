import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ExportConfigError } from '../lambdas/contracts/errors';
import { connectionFromSecret, PLACEHOLDERS } from '../lambdas/export/secret';
import { UsageError } from './errors';
import { rewordCredentialMessage } from './wording';

/** What run mode puts in the local secret: the API key from the environment, the CA from `--ca-file`. */
export interface Credentials {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly caBundle?: string;
}

/**
 * `PCE_API_KEY`, `PCE_API_SECRET` and the `--ca-file` PEM, checked as Submit checks the secret
 * that holds them. No message carries a value.
 */
export async function readCredentials(env: NodeJS.ProcessEnv, caFile?: string): Promise<Credentials> {
  const apiKey = env.PCE_API_KEY ?? '';
  const apiSecret = env.PCE_API_SECRET ?? '';
  const missing = [apiKey ? undefined : 'PCE_API_KEY', apiSecret ? undefined : 'PCE_API_SECRET'].filter(
    Boolean,
  );
  if (missing.length > 0) {
    throw new UsageError(
      `${missing.join(' and ')} must be set in the environment: export PCE_API_KEY=api_… PCE_API_SECRET=… (credentials are never taken from flags)`,
    );
  }
  for (const [name, value, what] of [
    ['PCE_API_KEY', apiKey, "the API key's username (api_…)"],
    ['PCE_API_SECRET', apiSecret, "the API key's secret"],
  ] as const) {
    if (PLACEHOLDERS.has(value.trim()))
      throw new UsageError(`${name} holds the placeholder ${value.trim()}: set it to ${what}`);
  }
  const caBundle = caFile === undefined ? undefined : await readCaFile(caFile);
  try {
    connectionFromSecret(
      'run',
      { apiKey, apiSecret, ...(caBundle === undefined ? {} : { caBundle }) },
      {
        baseUrl: 'https://pce.invalid',
        orgId: 1,
      },
    );
  } catch (error) {
    if (error instanceof ExportConfigError)
      throw new UsageError(rewordCredentialMessage(error.message, caFile));
    throw error;
  }
  return { apiKey, apiSecret, ...(caBundle === undefined ? {} : { caBundle }) };
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

async function readCaFile(file: string): Promise<string> {
  const pem = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--ca-file ${file} cannot be read (${error.code ?? error.message})`);
  });
  // A file without any PEM block is the secret check's to report; a block that does not parse, ours.
  for (const [index, block] of (pem.match(PEM_BLOCK) ?? []).entries()) {
    try {
      new X509Certificate(block);
    } catch {
      throw new UsageError(
        `--ca-file ${file}: certificate ${index + 1} is not a valid PEM certificate; give the PEM file of the PCE's CA`,
      );
    }
  }
  return pem;
}
