import * as z from 'zod';

/*
 * The filters of a traffic query beyond sources and destinations, in the friendly form the
 * execution input, the deploy configuration and the command line share: services (ports, port
 * ranges, protocols, process and Windows service names), transmission, and label `key=value`
 * actors, which the run resolves to label hrefs through the PCE's labels API.
 */

/** Explorer's transmission types; a query left without any takes every one. */
export const TRANSMISSIONS = ['unicast', 'broadcast', 'multicast'] as const;

/** IANA protocol numbers of the names the input accepts. */
const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17 };

/** Entries in one services include or exclude list. */
const MAX_TRAFFIC_SERVICES = 64;

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f]+$/;

/** `env=prod`: a label by key and value (the value may hold "=" and spaces, no control characters). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const LABEL_KEY_VALUE = /^([A-Za-z][A-Za-z0-9_-]{0,63})=([^\u0000-\u001f\u007f]{1,255})$/;

/** The key and value of a `key=value` label actor, or undefined when the string is none. */
export function labelKeyValue(value: string): { key: string; value: string } | undefined {
  const match = LABEL_KEY_VALUE.exec(value);
  return match?.[1] && match[2] ? { key: match[1], value: match[2] } : undefined;
}

const port = z
  .number({ error: 'must be a port number' })
  .int('must be a whole number')
  .min(0, 'must be at least 0')
  .max(65_535, 'must be at most 65535');

const PROTOCOL_RULE = 'must be "tcp", "udp", "icmp" or a protocol number';
const protocol = z
  .union(
    [
      z.enum(['tcp', 'udp', 'icmp'], { error: PROTOCOL_RULE }),
      z
        .number({ error: PROTOCOL_RULE })
        .int('must be a whole number')
        .min(0, 'must be at least 0')
        .max(255, 'must be at most 255'),
    ],
    { error: PROTOCOL_RULE },
  )
  .meta({ description: '"tcp", "udp", "icmp" or an IANA protocol number (0 to 255).' });

const name = z.string().min(1).max(255).regex(NO_CONTROL, 'must not contain control characters');

/**
 * One service filter: every field given must match (a conjunction), as in Explorer:
 * `{"port": 443, "proto": "tcp"}`, `{"port": 8000, "toPort": 8999, "proto": "tcp"}`,
 * `{"proto": "icmp"}`, `{"processName": "nginx"}`, `{"windowsServiceName": "W3SVC"}`.
 */
const serviceInputSchema = z
  .object({
    port: port.optional(),
    /** With `port`: a range from `port` to `toPort`, both included. */
    toPort: port.optional(),
    proto: protocol.optional(),
    processName: name.optional(),
    windowsServiceName: name.optional(),
  })
  .strict()
  .superRefine((service, ctx) => {
    if (Object.keys(service).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'must give port, proto, processName or windowsServiceName',
      });
    }
    if (service.toPort !== undefined && service.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['toPort'], message: 'needs a port' });
    }
    if (service.toPort !== undefined && service.port !== undefined && service.toPort < service.port) {
      ctx.addIssue({ code: 'custom', path: ['toPort'], message: 'must not be below port' });
    }
  });

const SERVICES_MESSAGE = `must have at most ${MAX_TRAFFIC_SERVICES} entries`;

export const servicesInputSchema = z
  .object({
    /** Alternatives (OR): a flow matches when one of them does. @default every service */
    include: z.array(serviceInputSchema).max(MAX_TRAFFIC_SERVICES, SERVICES_MESSAGE).optional(),
    /** A flow that matches any of these is left out. @default none */
    exclude: z.array(serviceInputSchema).max(MAX_TRAFFIC_SERVICES, SERVICES_MESSAGE).optional(),
  })
  .strict();

/** A service filter as it travels in the state: the protocol as its number. */
const serviceStateSchema = z
  .object({
    port: port.optional(),
    toPort: port.optional(),
    proto: z.number().int().min(0).max(255).optional(),
    processName: name.optional(),
    windowsServiceName: name.optional(),
  })
  .strict();
export type TrafficService = z.output<typeof serviceStateSchema>;

export const servicesStateSchema = z.object({
  include: z.array(serviceStateSchema).max(MAX_TRAFFIC_SERVICES, SERVICES_MESSAGE),
  exclude: z.array(serviceStateSchema).max(MAX_TRAFFIC_SERVICES, SERVICES_MESSAGE),
});

/** The state form of a validated services input. */
export function resolveServices(input: z.output<typeof servicesInputSchema>): TrafficServices {
  const state = ({ proto, ...rest }: z.output<typeof serviceInputSchema>): TrafficService => ({
    ...rest,
    ...(proto === undefined ? {} : { proto: typeof proto === 'number' ? proto : PROTOCOL_NUMBERS[proto] }),
  });
  return { include: (input.include ?? []).map(state), exclude: (input.exclude ?? []).map(state) };
}
export type TrafficServices = z.output<typeof servicesStateSchema>;

export const transmissionsSchema = z
  .array(z.enum(TRANSMISSIONS, { error: `must be one of ${TRANSMISSIONS.join(', ')}` }))
  .min(1, 'must name at least one transmission')
  .max(TRANSMISSIONS.length)
  .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a transmission' });
