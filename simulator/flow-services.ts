/**
 * The services traffic flows use, with the process (and Windows service) a managed destination
 * reports for each: unicast ones, the broadcast and multicast ones, ICMP and application ports.
 */

export interface FlowService {
  readonly port: number;
  readonly proto: number;
  /** Process on a managed Linux destination. */
  readonly linux: string;
  /** Process on a managed Windows destination. */
  readonly windows: string;
  /** Windows service name, when the process runs one. */
  readonly windowsService?: string;
  /** Destination address for multicast services. */
  readonly group?: string;
}

const TCP = 6;
const UDP = 17;
export const ICMP = 1;

/** Well-known unicast services. */
export const UNICAST_SERVICES: readonly FlowService[] = [
  { port: 80, proto: TCP, linux: 'nginx', windows: 'w3wp.exe', windowsService: 'W3SVC' },
  { port: 443, proto: TCP, linux: 'nginx', windows: 'w3wp.exe', windowsService: 'W3SVC' },
  { port: 22, proto: TCP, linux: 'sshd', windows: 'sshd.exe', windowsService: 'sshd' },
  { port: 3389, proto: TCP, linux: 'xrdp', windows: 'svchost.exe', windowsService: 'TermService' },
  { port: 53, proto: UDP, linux: 'named', windows: 'dns.exe', windowsService: 'DNS' },
  { port: 53, proto: TCP, linux: 'named', windows: 'dns.exe', windowsService: 'DNS' },
  { port: 123, proto: UDP, linux: 'chronyd', windows: 'svchost.exe', windowsService: 'W32Time' },
  { port: 3306, proto: TCP, linux: 'mysqld', windows: 'mysqld.exe', windowsService: 'MySQL80' },
  { port: 5432, proto: TCP, linux: 'postgres', windows: 'postgres.exe', windowsService: 'postgresql-x64-16' },
  { port: 1433, proto: TCP, linux: 'sqlservr', windows: 'sqlservr.exe', windowsService: 'MSSQLSERVER' },
  { port: 1521, proto: TCP, linux: 'tnslsnr', windows: 'TNSLSNR.EXE', windowsService: 'OracleTNSListener' },
  { port: 445, proto: TCP, linux: 'smbd', windows: 'System' },
  { port: 389, proto: TCP, linux: 'slapd', windows: 'lsass.exe', windowsService: 'NTDS' },
  { port: 636, proto: TCP, linux: 'slapd', windows: 'lsass.exe', windowsService: 'NTDS' },
  { port: 88, proto: TCP, linux: 'krb5kdc', windows: 'lsass.exe', windowsService: 'Kdc' },
  { port: 88, proto: UDP, linux: 'krb5kdc', windows: 'lsass.exe', windowsService: 'Kdc' },
  {
    port: 25,
    proto: TCP,
    linux: 'master',
    windows: 'EdgeTransport.exe',
    windowsService: 'MSExchangeTransport',
  },
  { port: 6379, proto: TCP, linux: 'redis-server', windows: 'redis-server.exe', windowsService: 'Redis' },
  { port: 9092, proto: TCP, linux: 'java', windows: 'java.exe' },
  { port: 9200, proto: TCP, linux: 'java', windows: 'java.exe', windowsService: 'elasticsearch-service-x64' },
  { port: 27017, proto: TCP, linux: 'mongod', windows: 'mongod.exe', windowsService: 'MongoDB' },
  { port: 5672, proto: TCP, linux: 'beam.smp', windows: 'erl.exe', windowsService: 'RabbitMQ' },
  { port: 2181, proto: TCP, linux: 'java', windows: 'java.exe' },
  { port: 161, proto: UDP, linux: 'snmpd', windows: 'snmp.exe', windowsService: 'SNMP' },
  { port: 514, proto: UDP, linux: 'rsyslogd', windows: 'nxlog.exe', windowsService: 'nxlog' },
  { port: 11211, proto: TCP, linux: 'memcached', windows: 'memcached.exe' },
  { port: 8080, proto: TCP, linux: 'java', windows: 'tomcat9.exe', windowsService: 'Tomcat9' },
  { port: 8443, proto: TCP, linux: 'java', windows: 'java.exe' },
  { port: 5985, proto: TCP, linux: 'omiengine', windows: 'svchost.exe', windowsService: 'WinRM' },
];

/** Sent to a subnet's broadcast address (or 255.255.255.255). */
export const BROADCAST_SERVICES: readonly FlowService[] = [
  { port: 137, proto: UDP, linux: 'nmbd', windows: 'System' },
  { port: 138, proto: UDP, linux: 'nmbd', windows: 'System' },
  { port: 67, proto: UDP, linux: 'dhcpd', windows: 'svchost.exe', windowsService: 'DHCPServer' },
];

/** Sent to a multicast group. */
export const MULTICAST_SERVICES: readonly FlowService[] = [
  {
    port: 5353,
    proto: UDP,
    linux: 'avahi-daemon',
    windows: 'svchost.exe',
    windowsService: 'Dnscache',
    group: '224.0.0.251',
  },
  {
    port: 1900,
    proto: UDP,
    linux: 'minissdpd',
    windows: 'svchost.exe',
    windowsService: 'SSDPSRV',
    group: '239.255.255.250',
  },
  {
    port: 5355,
    proto: UDP,
    linux: 'systemd-resolved',
    windows: 'svchost.exe',
    windowsService: 'Dnscache',
    group: '224.0.0.252',
  },
];

/** Application ports (1024..65535): the process a managed destination reports. */
export const APP_PORT: Omit<FlowService, 'port' | 'proto'> = { linux: 'java', windows: 'java.exe' };
