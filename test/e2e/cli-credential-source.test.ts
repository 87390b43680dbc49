import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliOutcome, runBin } from '../support/cli';
import { failed, type Harness, startHarness } from './harness';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

/*
 * A failure that the user fixes where the credentials come from names that place: in run mode
 * PCE_API_KEY, PCE_API_SECRET and --ca-file; in the deployed functions (the same handlers, with
 * no PCE_CREDENTIAL_SOURCE in their environment) the secret and its fields.
 */

const WRONG_SECRET = 'not-the-secret-of-this-key';

interface Outcome extends CliOutcome {
  readonly last: { error?: string; cause?: string };
}

async function runCli(args: readonly string[], env: Record<string, string>, cwd: string): Promise<Outcome> {
  const outcome = await runBin(args, cwd, { ...process.env, ...env });
  const last = JSON.parse(outcome.stdout.trimEnd().split('\n').at(-1) ?? '{}') as Outcome['last'];
  return { ...outcome, last };
}

describe('where the credentials and the CA come from, as the failures name it', () => {
  let h: Harness;
  let dir: string;
  let run: (args: readonly string[], env?: Record<string, string>) => Promise<Outcome>;

  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'pce-export-credential-source-'));
    await writeFile(join(dir, 'pce-ca.pem'), h.simulator.caPem ?? '');
    const { apiKey, apiSecret } = h.simulator.credentials;
    run = (args, env = {}) =>
      runCli(
        ['run', '--pce-url', h.simulator.url, '--org', '1', '--path', '/labels', '--out', 'out', ...args],
        { PCE_API_KEY: apiKey, PCE_API_SECRET: apiSecret, ...env },
        dir,
      );
  });

  afterAll(async () => {
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('through pce-export run', () => {
    it('names PCE_API_KEY and PCE_API_SECRET after a 401', async () => {
      const outcome = await run(['--ca-file', 'pce-ca.pem'], { PCE_API_SECRET: WRONG_SECRET });

      expect(outcome.code).toBe(1);
      expect(outcome.last.error).toBe('PceAuthError');
      expect(outcome.last.cause).toContain('401');
      expect(outcome.last.cause).toContain(
        "Check the API key and secret in PCE_API_KEY and PCE_API_SECRET and that the key's user may read this resource.",
      );
      expect(`${outcome.stdout}${outcome.stderr}`).not.toMatch(/in the secret|pce-export\/local\//);
      expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(WRONG_SECRET);
    });

    it('names --ca-file after a certificate of a CA it does not trust', async () => {
      const outcome = await run([]);

      expect(outcome.code).toBe(1);
      expect(outcome.last.error).toBe('ExportConfigError');
      expect(outcome.last.cause).toMatch(/the TLS certificate of https:\/\/127\.0\.0\.1:\d+ is not trusted/);
      expect(outcome.last.cause).toContain(
        "If the PCE's certificate is issued by a private CA, put that CA's PEM in a file given with --ca-file.",
      );
      expect(`${outcome.stdout}${outcome.stderr}`).not.toContain('caBundle');
    });

    it('names PCE_API_KEY when it holds the placeholder, before anything runs', async () => {
      const outcome = await run(['--ca-file', 'pce-ca.pem'], { PCE_API_KEY: 'api_REPLACE_ME' });

      expect(outcome.code).toBe(2);
      expect(outcome.last).toEqual({
        error: 'UsageError',
        cause:
          "PCE_API_KEY still holds the placeholder; put the PCE API key's username (api_…) in PCE_API_KEY and its secret in PCE_API_SECRET",
      });
      expect(outcome.stderr).not.toMatch(/Secret|Submit: started/);
    });
  });

  describe('in the deployed wording, the handlers with the default environment', () => {
    const pce = () => ({ url: h.simulator.url, orgId: 1, ...h.simulator.credentials });

    it('names the secret after a 401', async () => {
      const { error, cause } = failed(
        await h.run(
          { path: '/labels' },
          { pce: { ...pce(), apiSecret: WRONG_SECRET, caBundle: h.simulator.caPem } },
        ),
      );

      expect(error).toBe('PceAuthError');
      expect(cause).toContain(
        "Check the API key and secret in the secret and that the key's user may read this resource.",
      );
      expect(cause).not.toContain('PCE_API_KEY');
    });

    it("names the secret's caBundle field after a certificate of a CA it does not trust", async () => {
      const { error, cause } = failed(await h.run({ path: '/labels' }, { pce: pce() }));

      expect(error).toBe('ExportConfigError');
      expect(cause).toContain(
        "If the PCE's certificate is issued by a private CA, put that CA's PEM in the secret's caBundle field.",
      );
      expect(cause).not.toContain('--ca-file');
    });

    it('names the secret and its fields while it holds the placeholder', async () => {
      const { error, cause } = failed(
        await h.run(
          { path: '/labels' },
          { pce: { ...pce(), apiKey: 'api_REPLACE_ME', apiSecret: 'REPLACE_ME' } },
        ),
      );

      expect(error).toBe('ExportConfigError');
      expect(cause).toMatch(
        /^Secret \S+ still holds the placeholder in apiKey and apiSecret; put the PCE API key's username \(api_…\) in apiKey and its secret in apiSecret$/,
      );
      expect(cause).not.toContain('PCE_API_KEY');
    });
  });
});
