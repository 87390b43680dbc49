import { readCredentials } from './credentials';
import { EXIT_CODES_HELP, EXIT_OK } from './errors';
import type { CliIo } from './io';
import { parseRunArgs } from './run-args';

export const RUN_USAGE = `Usage: pce-export run --pce-url URL --org N --path /collection [options]
       pce-export run --pce-url URL --org N --traffic [traffic options] [options]
       pce-export run --pce-url URL --org N --events [window options] [options]
       pce-export run --pce-url URL --org N --input-json FILE [options]

Runs the export workflow (the synthesized state machine and the real handlers) on this machine.
Credentials come from the environment: PCE_API_KEY and PCE_API_SECRET.

Options:
  --pce-url URL          PCE base URL, e.g. https://pce.example.com:8443 (http only on loopback)
  --org N                org id (a positive integer)
  --path PATH            org-relative collection path, e.g. /workloads or /labels
  --query KEY=VALUE      filter, repeatable (e.g. --query managed=true)
  --export-name NAME     name used in the S3 key (default: derived from the path; "traffic" for --traffic)
  --out DIR              write the object to DIR/<key> (default: ./pce-export-output)
  --out s3://BUCKET/PREFIX
                         write to S3 (AWS credentials from the standard chain)
  --s3-endpoint URL      S3-compatible endpoint for --out s3://…
  --format raw|ndjson|parquet
                         raw = the PCE's JSON array byte for byte; ndjson = one object per line;
                         parquet = one row per object in typed columns (default ndjson)
  --gzip | --no-gzip     gzip the object (default --gzip); with parquet, GZIP pages, else Snappy
  --ca-file PEM          CA bundle to trust for the PCE's certificate, in addition to the system roots
  --proxy URL            HTTP(S) proxy the PCE requests go through with CONNECT, TLS still verified
                         end to end (default: HTTPS_PROXY; the hosts in NO_PROXY are reached
                         directly); AWS requests never use it
  --max-wait SECONDS     give up on the job after this long, 1 to 86400 (default 3600)
  --retry-window SECONDS how long a PCE that cannot be reached or does not take the job is tried
                         again before the run fails with PceUnavailable, 0 to 3600 (default 600)
  --input-json FILE      the whole execution input from a JSON file, instead of the export flags:
                         one export's input, or a snapshot {"snapshot": {"name": "morning",
                         "exports": [{"exportName": "labels", "path": "/labels"}, …]}} that writes
                         every export into one folder with one manifest; names of exports and
                         snapshots are those of config/pce-export.json
  -h, --help             this help

Window options (with --traffic or --events):
  --since DURATION       the range up to the start of the run: 24h, 7d, 90m, 2w (default 24h)
  --start ISO            absolute range start, e.g. 2026-01-01T00:00:00Z (instead of --since)
  --end ISO              absolute range end (default: the start of the run)
  --incremental          start where the last successful run of the export ended (its
                         watermark.json beside latest.json, so with --out s3://…), less --overlap,
                         dropping what that run stored; the first run takes the range given
  --overlap DURATION     how far before the last run's end an incremental run starts (default 10m)
  --catch-up DURATION    the furthest back an incremental run reaches after missed runs (default 7d)

Events options:
  --events               export the PCE's audit events (/events) through the async job API

Traffic options (Explorer traffic flows through the async query API, instead of --path/--query):
  --traffic              export traffic flows
  --policy-decision D    allowed, potentially_blocked, blocked or unknown; repeatable (default: all)
  --max-results N        most flows returned, 1 to 200000 (default 100000)
  --source ACTOR         include flows from ACTOR, repeatable (alternatives); ACTOR is a label,
                         label group, workload or IP list href of the org, an IP address or a
                         CIDR block; A,B (comma-separated) matches flows from actors that are both
  --destination ACTOR    include flows to ACTOR, as --source
  --exclude-source ACTOR, --exclude-destination ACTOR
                         leave out flows from / to ACTOR, repeatable; ACTOR may also be a label
                         as key=value (env=prod), looked up through the PCE's labels
  --service SPEC         include flows of a service, repeatable (alternatives): tcp/443,
                         udp/8000-8999, 443 (any protocol), icmp, proto=47, process=nginx,
                         windows-service=W3SVC; parts joined with + must all match (tcp/443+process=nginx)
  --exclude-service SPEC leave out flows of a service, as --service, repeatable
  --transmission T       unicast, broadcast or multicast; repeatable (default: all)
  --draft-policy         compute draft policy decisions: each flow carries draft_policy_decision
  --ip-lists-include-workloads
                         an IP list actor also matches the workloads in its ranges (default: not)
  --max-queries N        most PCE queries while splitting windows past --max-results, 1 to 1000
                         (default 500)
  --allow-partial        a window no split brings under --max-results is stored as returned and
                         the run succeeds with complete: false and missingFlows, instead of
                         failing with TrafficIncomplete

Progress goes to stderr; stdout carries one line, one JSON object: the execution output (with
localPath for --out DIR), or {"error", "cause"}.

${EXIT_CODES_HELP}`;

/** `pce-export run`: the real engine against any PCE. */
export async function runCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const args = parseRunArgs(argv);
  if (args === 'help') {
    io.stdout(RUN_USAGE);
    return EXIT_OK;
  }
  const credentials = await readCredentials(
    process.env,
    { url: args.pceUrl, orgId: args.orgId },
    args.caFile,
  );
  // The engine loads only once the command line is known to be right, so a mistake is answered at once.
  const { executeExport } = await import('./execute');
  return executeExport({
    io,
    pce: { url: args.pceUrl, orgId: args.orgId, ...credentials },
    input: args.input,
    out: args.out,
    s3Endpoint: args.s3Endpoint,
    ...(args.proxy ? { proxy: args.proxy } : {}),
    ...(args.retryWindowSeconds === undefined ? {} : { retryWindowSeconds: args.retryWindowSeconds }),
  });
}
