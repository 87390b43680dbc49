import { NO_PROXY_ENTRY, NO_PROXY_ENTRY_RULE, proxyUrlIssue } from '../lambdas/contracts/proxy';
import { UsageError } from './errors';

/*
 * The proxy of `pce-export run`: `--proxy URL`, or the HTTPS_PROXY of the environment, with the
 * hosts of NO_PROXY reached directly. Only the PCE requests go through it (the AWS SDK reads no
 * proxy variable), by the rules the deploy configuration's `proxy` follows.
 */

export interface RunProxy {
  readonly url: string;
  readonly noProxy: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

function variable(env: Env, name: string): { name: string; value: string } | undefined {
  for (const spelling of [name, name.toLowerCase()]) {
    const value = env[spelling]?.trim();
    if (value) return { name: spelling, value };
  }
  return undefined;
}

/** The proxy for the PCE requests, or undefined for none; a mistake is a UsageError naming its source. */
export function runProxy(flag: string | undefined, env: Env): RunProxy | undefined {
  const fromEnv = variable(env, 'HTTPS_PROXY');
  const source = flag !== undefined ? { name: '--proxy', value: flag } : fromEnv;
  if (source === undefined) return undefined;
  const issue = proxyUrlIssue(source.value);
  if (issue !== undefined) {
    // A URL with user info is not echoed: that may be a credential.
    const given = source.value.includes('@') ? '' : ` (got ${JSON.stringify(source.value)})`;
    throw new UsageError(`${source.name} ${issue}${given}`);
  }
  const noProxy = variable(env, 'NO_PROXY');
  const entries = (noProxy?.value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const bad = entries.find((entry) => !NO_PROXY_ENTRY.test(entry));
  if (noProxy && bad !== undefined)
    throw new UsageError(`${noProxy.name} entry ${JSON.stringify(bad)} ${NO_PROXY_ENTRY_RULE}`);
  return { url: new URL(source.value).origin, noProxy: entries };
}
