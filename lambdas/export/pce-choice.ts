import { ExportConfigError } from '../contracts/errors';
import { PCE_NAME } from '../contracts/patterns';
import type { Env } from './env';

/*
 * With several PCEs, each PCE has its own state machine, and an execution input names the PCE
 * it is for (`"pce": "prod"`): required, and it must be the state machine's own, so that an
 * input sent to the wrong state machine fails before anything is sent to any PCE.
 */

export interface PceIdentity {
  /** This state machine's PCE (`PCE_NAME`); undefined for a deployment whose one PCE has no name. */
  readonly name?: string;
  /** Every PCE of the deployment (`PCE_NAMES`, comma-separated); empty or one for a single PCE. */
  readonly names: readonly string[];
}

export function readPceIdentity(env: Env = process.env): PceIdentity {
  const name = env.PCE_NAME?.trim() || undefined;
  const names = (env.PCE_NAMES ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const [variable, value] of [['PCE_NAME', name], ...names.map((n) => ['PCE_NAMES', n])] as const) {
    if (value !== undefined && !PCE_NAME.test(value))
      throw new ExportConfigError(`Environment variable ${variable} holds an invalid PCE name "${value}"`);
  }
  if (name !== undefined && names.length > 0 && !names.includes(name))
    throw new ExportConfigError(`Environment variable PCE_NAMES does not list PCE_NAME "${name}"`);
  return {
    ...(name === undefined ? {} : { name }),
    names: names.length > 0 ? names : name === undefined ? [] : [name],
  };
}

/**
 * Checks the `pce` of an execution input against the state machine's PCE: required with several
 * PCEs, and then this one; with one PCE it may be left out. Throws ExportConfigError.
 */
export function checkInputPce(input: unknown, identity: PceIdentity): void {
  const pce =
    input !== null && typeof input === 'object' && !Array.isArray(input)
      ? (input as { pce?: unknown }).pce
      : undefined;
  const several = identity.names.length > 1;
  const known = identity.names.join(', ');
  if (pce === undefined) {
    if (several)
      throw new ExportConfigError(
        `Invalid input: input.pce is required: this deployment exports from several PCEs (${known}), and this state machine is PCE "${identity.name}"'s`,
      );
    return;
  }
  if (typeof pce !== 'string') return; // the input schema names the type
  if (identity.name === undefined) {
    throw new ExportConfigError(
      `Invalid input: input.pce "${pce}" names a PCE, but this deployment has one PCE without a name; leave input.pce out`,
    );
  }
  if (!identity.names.includes(pce)) {
    throw new ExportConfigError(
      `Invalid input: input.pce "${pce}" is not a configured PCE (configured: ${known})`,
    );
  }
  if (pce !== identity.name) {
    throw new ExportConfigError(
      `Invalid input: input.pce is "${pce}", but this state machine exports from PCE "${identity.name}": start PCE "${pce}"'s state machine instead`,
    );
  }
}
