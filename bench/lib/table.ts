/** A Markdown table with columns padded to line up in a terminal too. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

const MIB = 1024 * 1024;

export const fmt = {
  mib: (bytes: number, digits = 0) => `${(bytes / MIB).toFixed(digits)} MiB`,
  bytes: (bytes: number) => bytes.toLocaleString('en-US'),
  rate: (mibPerSecond: number) => `${mibPerSecond.toFixed(1)} MiB/s`,
  pct: (ratio: number) => `${(ratio * 100).toFixed(0)}%`,
  ms: (ms: number) => `${ms.toFixed(1)} ms`,
  s: (seconds: number, digits = 1) => `${seconds.toFixed(digits)} s`,
  usd: (usd: number) => `$${usd.toFixed(5)}`,
  duration: (seconds: number) =>
    seconds >= 3600 ? `${seconds / 3600} h` : seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`,
};
