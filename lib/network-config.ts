import * as z from 'zod';
import { NO_PROXY_ENTRY, NO_PROXY_ENTRY_RULE, proxyUrlIssue } from '../lambdas/contracts/proxy';

/*
 * The `network` and `proxy` parts of the deploy configuration (PRODUCT.md 3.1): where the
 * functions that talk to the PCE run, and the proxy their PCE traffic goes through. Both may be
 * given at the top level and per PCE (`pces[].network`, `pces[].proxy`); a PCE's own replaces the
 * top level's as a whole, and `null` there means "none for this PCE".
 */

/** The AWS services a VPC endpoint can be created for (`network.endpoints`). */
const ENDPOINT_SERVICES = ['s3', 'secretsmanager', 'events', 'logs', 'xray', 'states'] as const;
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];

/**
 * What `"endpoints": true` creates: what the functions in the subnets call themselves, S3 (a
 * gateway endpoint), Secrets Manager and X-Ray. EventBridge (the state machine sends the events),
 * CloudWatch Logs (Lambda writes the functions' logs) and Step Functions (no function calls it)
 * are created only when listed.
 */
const DEFAULT_ENDPOINTS: readonly EndpointService[] = ['s3', 'secretsmanager', 'xray'];

/** Lambda takes at most 16 subnets and 5 security groups per function. */
const MAX_SUBNETS = 16;
const MAX_SECURITY_GROUPS = 5;

const id = (prefix: string) =>
  z
    .string()
    .regex(
      new RegExp(`^${prefix}-[0-9a-f]{8}(?:[0-9a-f]{9})?$`),
      `must be an id such as ${prefix}-0123456789abcdef0`,
    );

export const networkConfigSchema = z
  .object({
    vpcId: id('vpc'),
    /** The zones of `subnetIds`, in the same order (one subnet per zone, or the same number in each). */
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(?:-[a-z0-9]+)+[a-z]$/, 'must be a zone name such as eu-central-1a'))
      .min(1),
    subnetIds: z.array(id('subnet')).min(1).max(MAX_SUBNETS),
    /** The subnets' route tables, in the same order; needed only for the S3 gateway endpoint. */
    routeTableIds: z.array(id('rtb')).min(1).optional(),
    /** @default one security group the stack creates, egress to the PCE's port, the proxy's port and 443 only */
    securityGroupIds: z.array(id('sg')).min(1).max(MAX_SECURITY_GROUPS).optional(),
    /**
     * VPC endpoints to create in these subnets: `true` for the default set, or a list of
     * services. @default none (the subnets reach AWS through NAT, or the endpoints exist already)
     */
    endpoints: z.union([z.boolean(), z.array(z.enum(ENDPOINT_SERVICES)).min(1)]).optional(),
  })
  .strict()
  .superRefine((network, ctx) => {
    const zones = network.availabilityZones.length;
    if (network.subnetIds.length % zones !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['subnetIds'],
        message: `must list the same number of subnets in each of the ${zones} availability zone(s), in their order (got ${network.subnetIds.length})`,
      });
    }
    if (new Set(network.availabilityZones).size !== zones) {
      ctx.addIssue({ code: 'custom', path: ['availabilityZones'], message: 'must not repeat a zone' });
    }
    if (network.routeTableIds !== undefined && network.routeTableIds.length !== network.subnetIds.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['routeTableIds'],
        message: `must list one route table per subnet, in the order of subnetIds (${network.subnetIds.length})`,
      });
    }
    if (endpointServices(network).includes('s3') && network.routeTableIds === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['routeTableIds'],
        message:
          "is required for the S3 gateway endpoint: the subnets' route tables, in the order of subnetIds",
      });
    }
  });
export type NetworkConfig = z.output<typeof networkConfigSchema>;

/** The services a network asks endpoints for. */
export function endpointServices(network: { readonly endpoints?: boolean | readonly EndpointService[] }) {
  const { endpoints } = network;
  if (endpoints === undefined || endpoints === false) return [];
  return endpoints === true ? [...DEFAULT_ENDPOINTS] : [...new Set(endpoints)];
}

export const proxyConfigSchema = z
  .object({
    /** `http://proxy.corp.example:3128`: every PCE request goes through it with HTTP CONNECT. */
    url: z.string().superRefine((url, ctx) => {
      const issue = proxyUrlIssue(url);
      if (issue) ctx.addIssue({ code: 'custom', message: issue });
    }),
    /** PCE hosts reached directly rather than through the proxy. @default [] */
    noProxy: z.array(z.string().regex(NO_PROXY_ENTRY, NO_PROXY_ENTRY_RULE)).default([]),
  })
  .strict();
export type ProxyConfig = z.output<typeof proxyConfigSchema>;
