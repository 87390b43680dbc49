import { UsageError } from './errors';

/*
 * The traffic flags that stand for more than one input field: `--service SPEC` and
 * `--exclude-service SPEC` (one services filter each), and the switches of the query. What the
 * fields may hold is the schema's to say; this only reads the flags' own grammar.
 */

/** The traffic flags that only switch or count (besides the range, decisions and actors). */
export const TRAFFIC_SWITCH_FLAGS = [
  'service',
  'exclude-service',
  'transmission',
  'draft-policy',
  'ip-lists-include-workloads',
  'max-queries',
  'allow-partial',
] as const;

export interface TrafficSwitchFlags {
  readonly service?: readonly string[];
  readonly 'exclude-service'?: readonly string[];
  readonly transmission?: readonly string[];
  readonly 'draft-policy'?: boolean;
  readonly 'ip-lists-include-workloads'?: boolean;
  readonly 'max-queries'?: string;
  readonly 'allow-partial'?: boolean;
}

const SERVICE_RULE =
  'PROTO/PORT, PROTO/PORT-PORT, PORT, PORT-PORT, tcp, udp, icmp, proto=N, process=NAME or windows-service=NAME, joined with "+" to match all';

/**
 * One services filter: parts joined with "+" that must all match, e.g. `tcp/443`,
 * `udp/8000-8999`, `icmp`, `process=nginx`, `tcp/443+process=nginx`.
 */
function serviceOf(flag: string, spec: string): Record<string, unknown> {
  const service: Record<string, unknown> = {};
  const set = (field: string, value: unknown) => {
    if (field in service) throw new UsageError(`--${flag} ${JSON.stringify(spec)} gives ${field} twice`);
    service[field] = value;
  };
  for (const part of spec.split('+')) {
    const named = /^(process|windows-service)=(.+)$/.exec(part);
    if (named?.[2]) {
      set(named[1] === 'process' ? 'processName' : 'windowsServiceName', named[2]);
      continue;
    }
    const match =
      /^(?:(tcp|udp|\d{1,3})\/(\d{1,5})(?:-(\d{1,5}))?|(?:proto=)?(tcp|udp|icmp)|proto=(\d{1,3})|(\d{1,5})(?:-(\d{1,5}))?)$/i.exec(
        part,
      );
    if (!match) {
      throw new UsageError(`--${flag} must be ${SERVICE_RULE}, not ${JSON.stringify(spec)}`);
    }
    // PROTO/PORT[-PORT], a protocol by name or as proto=N, or PORT[-PORT] of any protocol.
    const proto = match[1] ?? match[4] ?? match[5];
    const port = match[2] ?? match[6];
    const toPort = match[3] ?? match[7];
    if (proto !== undefined) set('proto', /^\d+$/.test(proto) ? Number(proto) : proto.toLowerCase());
    if (port !== undefined) set('port', Number(port));
    if (toPort !== undefined) set('toPort', Number(toPort));
  }
  return service;
}

function numeric(text: string): number | string {
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

/** The input fields the switch flags stand for. */
export function trafficSwitches(flags: TrafficSwitchFlags): Record<string, unknown> {
  const include = flags.service?.map((spec) => serviceOf('service', spec));
  const exclude = flags['exclude-service']?.map((spec) => serviceOf('exclude-service', spec));
  const services =
    include === undefined && exclude === undefined
      ? undefined
      : { ...(include ? { include } : {}), ...(exclude ? { exclude } : {}) };
  const maxQueries = flags['max-queries'];
  return {
    ...(services === undefined ? {} : { services }),
    ...(flags.transmission === undefined ? {} : { transmission: [...flags.transmission] }),
    ...(flags['draft-policy'] ? { draftPolicy: true } : {}),
    ...(flags['ip-lists-include-workloads'] ? { excludeWorkloadsFromIpListQuery: false } : {}),
    ...(maxQueries === undefined ? {} : { maxQueries: numeric(maxQueries) }),
    ...(flags['allow-partial'] ? { allowPartial: true } : {}),
  };
}
