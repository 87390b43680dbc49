import type { FormatsResult } from '../scenarios/formats';
import type { TrafficResult } from '../scenarios/traffic';
import { fmt, table } from './table';

/*
 * The tables and targets of the traffic (7) and formats (8) sections.
 */

interface SectionTarget {
  readonly section: 'traffic' | 'formats';
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

const count = (n: number) => n.toLocaleString('en-US');

export function trafficTables(traffic: TrafficResult): string[] {
  return [
    '## 7. Traffic: complete exports past the 200,000-flow cap (ndjson.gz, 500 requests/min)',
    table(
      [
        'Run',
        'Population',
        'Flows exported',
        'Check: expected, missing, twice',
        'Windows',
        'Queries',
        'Wall',
        'PCE requests',
        'Most in 60 s',
        '429s',
        'Queries left',
      ],
      traffic.runs.map((r) => [
        r.status === 'SUCCEEDED' ? r.name : `${r.name} (${r.status})`,
        `${count(r.flowsPerDay)} a day`,
        count(r.flows),
        r.check
          ? `${count(r.check.expected)}, ${count(r.check.missing)}, ${count(r.check.duplicates)}${r.check.exact ? ' (exact)' : ' (NOT exact)'}`
          : 'not checked',
        String(r.windows),
        String(r.queries),
        fmt.s(r.wallSeconds),
        String(r.pceRequests),
        String(r.maxRequestsPerMinute),
        String(r.responses429),
        String(r.queriesLeftOnPce),
      ]),
    ),
    '',
    table(
      [
        'Run',
        'Transitions (parent + children)',
        'Step Functions',
        'Lambda GB-s',
        'Lambda',
        'Bytes stored (data)',
        'Fetch runs',
        'Fetch CPU s',
        'Fetch peak RSS',
        'Engine peak RSS',
      ],
      traffic.runs.map((r) => [
        r.name,
        `${r.transitions.total} (${r.transitions.parent} + ${r.transitions.children} in ${r.childExecutions} children)`,
        fmt.usd(r.stepFunctionsUsd),
        r.lambdaGbSeconds.toFixed(1),
        fmt.usd(r.lambdaUsd),
        `${fmt.bytes(r.storedBytes)} (${fmt.bytes(r.dataBytes)})`,
        String(r.fetch?.invocations ?? 0),
        (r.fetch?.cpuSeconds ?? 0).toFixed(1),
        fmt.mib(r.fetch?.peakRssBytes ?? 0),
        r.enginePeakRssBytes === undefined ? '—' : fmt.mib(r.enginePeakRssBytes),
      ]),
    ),
  ];
}

export function trafficTargets(traffic: TrafficResult | undefined): SectionTarget[] {
  return (traffic?.runs ?? []).flatMap((r) => [
    {
      section: 'traffic' as const,
      target: `${r.name}: every flow of the range exported exactly once`,
      measured: r.check
        ? `${count(r.check.stored)} stored of ${count(r.check.expected)}: ${r.check.missing} missing, ${r.check.duplicates} twice, ${r.check.unexpected} not in the range`
        : `${r.status}${r.error ? `: ${r.error.split('\n')[0]}` : ''}`,
      met: r.check?.exact === true && r.complete === true,
    },
    {
      section: 'traffic' as const,
      target: `${r.name}: no 429, at most 500 PCE requests in any 60 s, no query left on the PCE`,
      measured: `${r.responses429} × 429, most in 60 s ${r.maxRequestsPerMinute}, ${r.queriesLeftOnPce} left`,
      met: r.responses429 === 0 && r.maxRequestsPerMinute <= 500 && r.queriesLeftOnPce === 0,
    },
  ]);
}

export function formatsTables(formats: FormatsResult): string[] {
  const ndjson = (data: string) => formats.runs.find((r) => r.data === data && r.format === 'ndjson.gz');
  return [
    `## 8. Parquet against ndjson.gz (${count(formats.options.workloads)} workloads, a day of ${count(formats.options.flows)} flows)`,
    table(
      [
        'Data',
        'Format',
        'Rows',
        'Files',
        'Bytes stored',
        'vs ndjson.gz',
        'Export wall',
        'Fetch CPU s',
        'Fetch CPU s/GiB',
        'Fetch peak RSS',
        'DuckDB scan (best of 3)',
        'DuckDB CPU s (3 scans)',
        'Answer',
      ],
      formats.runs.map((r) => {
        const base = ndjson(r.data);
        return [
          r.data,
          r.status === 'SUCCEEDED' ? r.format : `${r.format} (${r.status})`,
          count(r.rows),
          String(r.objects),
          fmt.bytes(r.storedBytes),
          base && base.storedBytes > 0 ? fmt.pct(r.storedBytes / base.storedBytes) : '—',
          fmt.s(r.exportSeconds),
          r.fetchCpuSeconds.toFixed(1),
          r.fetchCpuSecondsPerGib.toFixed(1),
          fmt.mib(r.fetchPeakRssBytes),
          r.scanSeconds.length === 0 ? '—' : fmt.s(Math.min(...r.scanSeconds), 2),
          r.scanCpuSeconds.toFixed(2),
          r.scanRows.map((row) => Object.entries(row).map(([k, v]) => `${k} ${v}`)).join('; '),
        ];
      }),
    ),
    '',
    `Datafiles: ${formats.runs
      .filter((r) => r.format === 'ndjson.gz')
      .map((r) => `${r.data} ${fmt.bytes(r.datafileBytes)} bytes of JSON`)
      .join(
        ', ',
      )}. Queries: ${[...new Set(formats.runs.map((r) => r.query.replace(/\[.*\]/, '[…]')))].join('; ')}.`,
  ];
}

export function formatsTargets(formats: FormatsResult | undefined): SectionTarget[] {
  return ['workloads', 'flows'].flatMap((data) => {
    const [a, b] = (formats?.runs ?? []).filter((r) => r.data === data);
    if (!a || !b) return [];
    const same = a.scanRows.length > 0 && JSON.stringify(a.scanRows) === JSON.stringify(b.scanRows);
    return [
      {
        section: 'formats' as const,
        target: `${data}: DuckDB gives the same answer from the Parquet and the ndjson.gz export`,
        measured: `${JSON.stringify(a.scanRows)} vs ${JSON.stringify(b.scanRows)}`,
        met: same,
      },
    ];
  });
}
