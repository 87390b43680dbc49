import { readFile } from 'node:fs/promises';
import { type CredentialSource, credentialSourceSchema } from '../lambdas/contracts/credentials';
import { ExportConfigError } from '../lambdas/contracts/errors';
import { connectionFromSecret } from '../lambdas/export/secret';
import { createPceClient } from '../lambdas/pce/client';
import { UsageError } from './errors';

/** What run mode puts in the local secret: the API key from the environment, the CA from `--ca-file`. */
export interface Credentials {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly caBundle?: string;
  /** Where they come from, for the functions' messages to name. */
  readonly credentialSource: CredentialSource;
}

/**
 * Where run mode takes the key and the CA from, as the functions' messages name them: "put that
 * CA's PEM in a file given with --ca-file", "--ca-file ca.pem must be PEM certificates".
 */
function runSource(caFile: string | undefined): CredentialSource {
  const source = {
    apiKey: 'PCE_API_KEY',
    apiSecret: 'PCE_API_SECRET',
    caBundle: 'a file given with --ca-file',
  };
  const named = { ...source, caBundle: `--ca-file ${caFile}` };
  return caFile !== undefined && credentialSourceSchema.safeParse(named).success ? named : source;
}

/**
 * `PCE_API_KEY`, `PCE_API_SECRET` and the `--ca-file` PEM, checked as the functions check the
 * secret that holds them (placeholders, malformed values, a CA bundle that does not parse), with
 * their messages naming the variables and the flag. No message carries a value.
 */
export async function readCredentials(
  env: NodeJS.ProcessEnv,
  pce: { readonly url: string; readonly orgId: number },
  caFile?: string,
): Promise<Credentials> {
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
  const caBundle = caFile === undefined ? undefined : await readCaFile(caFile);
  const credentials = {
    apiKey,
    apiSecret,
    ...(caBundle === undefined ? {} : { caBundle }),
    credentialSource: runSource(caFile),
  };
  try {
    const connection = connectionFromSecret('run', credentials, {
      baseUrl: pce.url,
      orgId: pce.orgId,
      credentialSource: credentials.credentialSource,
    });
    // The client checks the CA bundle's certificates when it is made; nothing is sent.
    await createPceClient(connection).close();
  } catch (error) {
    if (error instanceof ExportConfigError) throw new UsageError(error.message);
    throw error;
  }
  return credentials;
}

async function readCaFile(file: string): Promise<string> {
  return readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`--ca-file ${file} cannot be read (${error.code ?? error.message})`);
  });
}
