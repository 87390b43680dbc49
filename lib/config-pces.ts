import * as z from 'zod';
import { pceNameSchema } from '../lambdas/contracts/input';
import { orgIdIssue, pceUrlIssue } from '../lambdas/contracts/patterns';
import {
  type NetworkConfig,
  networkConfigSchema,
  type ProxyConfig,
  proxyConfigSchema,
} from './network-config';

/*
 * The PCEs of a deployment: one (`pce` with the top-level `secret`), or several (`pces`, each
 * with its own `secret` and, optionally, its own `network` and `proxy`). `lib/config.ts` includes
 * these schemas; `pceDeployments()` turns either form into one list, each PCE with its exports
 * and snapshots, which the stack builds one workflow from.
 */

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** A complete secret ARN ends with `-` and the six random characters Secrets Manager appends. */
const SECRET_COMPLETE_ARN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
/** A KMS key ARN (single- or multi-Region key); an alias cannot be granted to in IAM. */
export const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/(?:[0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
export const KMS_KEY_ARN_RULE =
  'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); an alias ARN cannot be granted to';

/** The PCE's origin and org, as `pce` and each `pces` entry give them. */
const pceUrlSchema = z
  .string()
  .superRefine((url, ctx) => {
    const issue = pceUrlIssue(url);
    if (issue) ctx.addIssue({ code: 'custom', message: issue });
  })
  .transform((url) => new URL(url).origin);
const orgIdSchema = z.number().superRefine((orgId, ctx) => {
  const issue = orgIdIssue(orgId);
  if (issue) ctx.addIssue({ code: 'custom', message: issue });
});

export const pceConfigSchema = z.object({ url: pceUrlSchema, orgId: orgIdSchema }).strict();

/** A PCE's API key secret: created as a placeholder, or an existing one by name or complete ARN. */
export const secretConfigSchema = z
  .object({
    name: z
      .string()
      .regex(SECRET_NAME, 'must be a Secrets Manager secret name (letters, digits and /_+=.@-)')
      .optional(),
    arn: z
      .string()
      .regex(
        SECRET_COMPLETE_ARN,
        'must be the complete secret ARN, ending with the six-character suffix (or give "name" instead)',
      )
      .optional(),
    /** The customer-managed key an existing secret is encrypted with. @default the AWS-managed key */
    kmsKeyArn: z.string().regex(KMS_KEY_ARN, KMS_KEY_ARN_RULE).optional(),
  })
  .strict()
  .refine((secret) => secret.name === undefined || secret.arn === undefined, {
    message: 'gives both "name" and "arn": give one of them, or neither to create a placeholder secret',
  })
  .refine(
    (secret) => secret.kmsKeyArn === undefined || secret.name !== undefined || secret.arn !== undefined,
    {
      path: ['kmsKeyArn'],
      message:
        'names the key of an existing secret: give "name" or "arn" too (a created secret uses the AWS-managed key)',
    },
  );
export type SecretConfig = z.output<typeof secretConfigSchema>;

/** One entry of `pces`. */
export const pceEntrySchema = z
  .object({
    /** Tells the PCE's exports, objects, schedules, events and tables apart. */
    name: pceNameSchema,
    url: pceUrlSchema,
    orgId: orgIdSchema,
    /** @default a placeholder the stack creates */
    secret: secretConfigSchema.optional(),
    /** @default the top-level `network`; `null`: not in a VPC */
    network: networkConfigSchema.nullable().optional(),
    /** @default the top-level `proxy`; `null`: straight to the PCE */
    proxy: proxyConfigSchema.nullable().optional(),
  })
  .strict();

/** The fields of the configuration these checks look at. */
interface PcesView {
  readonly pce?: unknown;
  readonly pces?: readonly { readonly name: string }[];
  readonly secret?: unknown;
  readonly exports: readonly { readonly name: string; readonly pce?: string }[];
  readonly snapshots?: readonly {
    readonly name: string;
    readonly pce?: string;
    readonly exports: readonly string[];
  }[];
}

/** The index `name` was first seen at in `seen`, or undefined when this is its first time (now noted). */
function firstIndexOf(seen: Map<string, number>, name: string, index: number): number | undefined {
  const first = seen.get(name);
  if (first === undefined) seen.set(name, index);
  return first;
}

/**
 * Checks across fields: exactly one of `pce` and `pces`; with `pces`, no top-level secret,
 * unique PCE names, and every export and snapshot naming a configured PCE (required with
 * several); export names unique per PCE; a snapshot's members exports of its own PCE.
 */
export function checkPcesConfig(config: PcesView, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  if (config.pce === undefined && config.pces === undefined) {
    issue(['pce'], 'is required: the PCE to export from (or "pces" for several)');
    return;
  }
  if (config.pce !== undefined && config.pces !== undefined) {
    issue(['pces'], 'and "pce" exclude each other: give "pce" for one PCE, or "pces" for several');
    return;
  }
  const pces = config.pces;
  if (pces === undefined) {
    const seen = new Map<string, number>();
    config.exports.forEach((entry, index) => {
      const first = firstIndexOf(seen, entry.name, index);
      if (first !== undefined)
        issue(
          ['exports', index, 'name'],
          `"${entry.name}" is already used by exports[${first}]; export names must be unique`,
        );
      if (entry.pce !== undefined)
        issue(
          ['exports', index, 'pce'],
          'names a PCE, but the configuration has one PCE without a name ("pce")',
        );
    });
    (config.snapshots ?? []).forEach((snapshot, index) => {
      if (snapshot.pce !== undefined)
        issue(
          ['snapshots', index, 'pce'],
          'names a PCE, but the configuration has one PCE without a name ("pce")',
        );
    });
    return;
  }
  if (config.secret !== undefined) {
    issue(['secret'], 'is per PCE with "pces": give each PCE its own (pces[].secret)');
  }
  const names = new Map<string, number>();
  pces.forEach((pce, index) => {
    const first = firstIndexOf(names, pce.name, index);
    if (first !== undefined)
      issue(
        ['pces', index, 'name'],
        `"${pce.name}" is already used by pces[${first}]; PCE names must be unique`,
      );
  });
  const known = [...names.keys()].join(', ');
  const pceOf = (path: (string | number)[], pce: string | undefined): string | undefined => {
    if (pce === undefined) {
      if (pces.length > 1) issue([...path, 'pce'], `is required with several PCEs: one of ${known}`);
      return pces.length === 1 ? pces[0]?.name : undefined;
    }
    if (!names.has(pce)) issue([...path, 'pce'], `names PCE "${pce}", which is not configured (${known})`);
    return pce;
  };
  const exportsByPce = new Map<string, Map<string, number>>();
  config.exports.forEach((entry, index) => {
    const pce = pceOf(['exports', index], entry.pce);
    if (pce === undefined) return;
    const own = exportsByPce.get(pce) ?? new Map<string, number>();
    exportsByPce.set(pce, own);
    const first = firstIndexOf(own, entry.name, index);
    if (first !== undefined) {
      issue(
        ['exports', index, 'name'],
        `"${entry.name}" is already used by exports[${first}] of PCE "${pce}"; export names must be unique per PCE`,
      );
    }
  });
  (config.snapshots ?? []).forEach((snapshot, index) => {
    const pce = pceOf(['snapshots', index], snapshot.pce);
    if (pce === undefined) return;
    const own = exportsByPce.get(pce);
    snapshot.exports.forEach((member, position) => {
      if (own?.has(member) === false || own === undefined) {
        if (config.exports.some((entry) => entry.name === member))
          issue(
            ['snapshots', index, 'exports', position],
            `names export "${member}", which is not one of PCE "${pce}"'s`,
          );
      }
    });
  });
}

/** What the stack builds one workflow from: a PCE with its settings, exports and snapshots. */
export interface PceDeployment<Export, Snapshot> {
  /** The PCE's configured name (`pces[].name`); undefined for the one PCE of a `pce` configuration. */
  readonly name?: string;
  /** The names of every PCE of the deployment (empty for a `pce` configuration). */
  readonly names: readonly string[];
  /**
   * True with several PCEs: the PCE's name then goes into its keys, construct ids, schedules and
   * tables. With one PCE (`pce`, or `pces` with one entry) they stay as they are without names.
   */
  readonly qualified: boolean;
  readonly url: string;
  readonly orgId: number;
  readonly secret: SecretConfig;
  readonly network?: NetworkConfig;
  readonly proxy?: ProxyConfig;
  readonly exports: readonly Export[];
  readonly snapshots: readonly Snapshot[];
}

interface DeploymentSource<Export, Snapshot> {
  readonly pce?: { readonly url: string; readonly orgId: number };
  readonly pces?: readonly z.output<typeof pceEntrySchema>[];
  readonly secret?: SecretConfig;
  readonly network?: NetworkConfig;
  readonly proxy?: ProxyConfig;
  readonly exports: readonly Export[];
  readonly snapshots?: readonly Snapshot[];
}

/** Every PCE of a parsed configuration, in order, each with what belongs to it. */
export function pceDeployments<
  Export extends { readonly pce?: string },
  Snapshot extends { readonly pce?: string },
>(config: DeploymentSource<Export, Snapshot>): PceDeployment<Export, Snapshot>[] {
  const snapshots = config.snapshots ?? [];
  if (config.pces === undefined) {
    if (config.pce === undefined) throw new Error('the configuration names no PCE');
    return [
      {
        names: [],
        qualified: false,
        url: config.pce.url,
        orgId: config.pce.orgId,
        secret: config.secret ?? {},
        ...(config.network ? { network: config.network } : {}),
        ...(config.proxy ? { proxy: config.proxy } : {}),
        exports: config.exports,
        snapshots,
      },
    ];
  }
  const names = config.pces.map((pce) => pce.name);
  const only = names.length === 1 ? names[0] : undefined;
  const belongs = (pce: string | undefined, name: string) => (pce ?? only) === name;
  return config.pces.map((pce) => {
    const network = pce.network === undefined ? config.network : (pce.network ?? undefined);
    const proxy = pce.proxy === undefined ? config.proxy : (pce.proxy ?? undefined);
    return {
      name: pce.name,
      names,
      // One PCE keeps the names and keys of a configuration without names.
      qualified: names.length > 1,
      url: pce.url,
      orgId: pce.orgId,
      secret: pce.secret ?? {},
      ...(network ? { network } : {}),
      ...(proxy ? { proxy } : {}),
      exports: config.exports.filter((entry) => belongs(entry.pce, pce.name)),
      snapshots: snapshots.filter((snapshot) => belongs(snapshot.pce, pce.name)),
    };
  });
}
