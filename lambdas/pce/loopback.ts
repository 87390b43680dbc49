/**
 * Whether a URL hostname is on the loopback interface (127.0.0.0/8, ::1, localhost). Plain
 * http is accepted for such hosts only: a PCE simulator or a tunnel on the same machine.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}
