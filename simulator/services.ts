/**
 * Services (well-known ports with their processes), and the ports traffic flows use. A
 * revision gives a few of them another port, removes a few and adds a few.
 */
import { type CollectionSpec, containsCi, type OrgBasis, type PceObject, parseIntParam } from './basis';
import {
  numericId,
  type PolicyVersion,
  policyHref,
  policyMeta,
  type Revised,
  revisedSpec,
  revisedTimes,
} from './policy';

/** Well-known services: name, ports ([port, proto] or [port, proto, toPort]) and a process. */
const SERVICES: readonly (readonly [string, readonly (readonly number[])[], string | null])[] = [
  ['HTTP', [[80, 6]], 'nginx'],
  ['HTTPS', [[443, 6]], 'nginx'],
  ['SSH', [[22, 6]], 'sshd'],
  ['RDP', [[3389, 6]], 'svchost.exe'],
  [
    'DNS',
    [
      [53, 17],
      [53, 6],
    ],
    'named',
  ],
  ['NTP', [[123, 17]], 'chronyd'],
  ['MySQL', [[3306, 6]], 'mysqld'],
  ['PostgreSQL', [[5432, 6]], 'postgres'],
  ['MS-SQL', [[1433, 6]], 'sqlservr.exe'],
  ['Oracle', [[1521, 6]], 'tnslsnr'],
  ['SMB', [[445, 6]], 'System'],
  [
    'LDAP',
    [
      [389, 6],
      [636, 6],
    ],
    'lsass.exe',
  ],
  [
    'Kerberos',
    [
      [88, 6],
      [88, 17],
    ],
    'lsass.exe',
  ],
  ['SMTP', [[25, 6]], 'postfix'],
  ['Redis', [[6379, 6]], 'redis-server'],
  ['Kafka', [[9092, 6]], 'java'],
  ['Elasticsearch', [[9200, 6, 9300]], 'java'],
  ['MongoDB', [[27017, 6]], 'mongod'],
  ['RabbitMQ', [[5672, 6]], 'beam.smp'],
  ['ZooKeeper', [[2181, 6]], 'java'],
  ['SNMP', [[161, 17]], 'snmpd'],
  ['Syslog', [[514, 17]], 'rsyslogd'],
  ['Memcached', [[11211, 6]], 'memcached'],
  ['Tomcat', [[8080, 6]], 'java'],
  ['HTTPS-Alt', [[8443, 6]], 'java'],
  ['WinRM', [[5985, 6, 5986]], 'svchost.exe'],
  ['ICMP', [[-1, 1]], null],
];

/** Ports/protocols/processes seen in traffic. */
export const FLOW_SERVICES: readonly {
  readonly port: number;
  readonly proto: number;
  readonly process: string;
}[] = SERVICES.flatMap(([, ports, process]) =>
  ports
    .filter((p) => (p[0] ?? -1) > 0)
    .map((p) => ({ port: p[0] ?? 0, proto: p[1] ?? 6, process: process ?? 'unknown' })),
);

function serviceName(i: number): string {
  if (i === 0) return 'All Services';
  const known = SERVICES[i - 1];
  return known ? known[0] : `App-Port-${10_000 + i}`;
}

function servicePorts(i: number): PceObject[] {
  if (i === 0) return [{ proto: -1 }];
  const known = SERVICES[i - 1];
  if (!known) return [{ port: 10_000 + i, proto: 6 }];
  return known[1].map(([port = 0, proto = 6, toPort]) =>
    port < 0 ? { proto } : toPort === undefined ? { port, proto } : { port, to_port: toPort, proto },
  );
}

/** `sec_policy/{pversion}/services`: service 0 is All Services, then the well-known ones, then app ports. */
export function servicesCollection(basis: OrgBasis, pversion: PolicyVersion): CollectionSpec {
  const salt = 0x5e2;
  const build = (i: number): Revised => {
    const known = SERVICES[i - 1];
    const edited = basis.view.edit('services', i);
    const last = edited || basis.view.plan('services').addedIn(i);
    const ports = servicePorts(i);
    if (edited !== 0) ports.push({ port: 20_000 + edited, proto: 6 });
    return {
      object: {
        href: policyHref(basis, pversion, 'services', i + 1),
        ...revisedTimes(basis, 'services', i, last, policyMeta(basis, salt, i, pversion)),
        name: serviceName(i),
        description: edited === 0 ? null : `Updated in revision ${edited}`,
        description_url: null,
        process_name: known?.[2] ?? null,
        service_ports: ports,
        external_data_set: null,
        external_data_reference: null,
      },
      last,
    };
  };
  const portsOf = (i: number) => build(i).object.service_ports as PceObject[];
  return {
    path: `sec_policy/${pversion}/services`,
    ...revisedSpec(basis, 'services', build, numericId),
    filters: {
      name: (value) => (i) => containsCi(serviceName(i), value),
      port: (value) => {
        const port = parseIntParam(value, 'port');
        if (typeof port === 'string') return port;
        return (i) =>
          portsOf(i).some((p) => {
            const from = typeof p.port === 'number' ? p.port : undefined;
            const to = typeof p.to_port === 'number' ? p.to_port : from;
            return from !== undefined && to !== undefined && port >= from && port <= to;
          });
      },
      proto: (value) => {
        const proto = parseIntParam(value, 'proto');
        if (typeof proto === 'string') return proto;
        return (i) => portsOf(i).some((p) => p.proto === proto);
      },
    },
  };
}
