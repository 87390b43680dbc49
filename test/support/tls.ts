import { generateServerTls, type ServerTls } from '../../simulator/tls';

/** A throwaway private CA and a server certificate it issued for 127.0.0.1, ::1 and localhost. */
export type TestCa = ServerTls;

export function createTestCa(): Promise<TestCa> {
  return generateServerTls('pce-export test');
}
