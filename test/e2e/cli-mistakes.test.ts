import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

/*
 * The mistakes a new user makes on the command line, each with the sentence it must get. Every
 * one exits 2 before anything is sent to a PCE, names what to change, and leaves one line on
 * stdout: {"error": "UsageError", "cause": <that sentence>}.
 */

const BIN = resolve(import.meta.dirname, '../../bin/pce-export.mjs');
const exec = promisify(execFile);

const API_KEY = 'api_0123456789abcdef';
const API_SECRET = 'not-a-real-secret-9f8e7d';
const PCE = ['--pce-url', 'https://pce.example.com:8443', '--org', '1'];

interface Mistake {
  readonly what: string;
  readonly args: readonly string[];
  /** Replaces PCE_API_KEY / PCE_API_SECRET (undefined: unset). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** What the message says, word for word. */
  readonly says: string;
}

/** Files the mistakes name, by name (written into the test's directory, which is the working directory). */
const FILES: Readonly<Record<string, string>> = {
  'unknown-export.json': JSON.stringify({ exportName: 'nightly-workloads' }),
  'unknown-field.json': JSON.stringify({ path: '/labels', colour: 'red' }),
  'one-label.json': JSON.stringify({ path: '/labels/3' }),
  'unknown-snapshot.json': JSON.stringify({ snapshot: { name: 'nightly' } }),
  'snapshot-member.json': JSON.stringify({ snapshot: { name: 'morning', exports: ['labels', 'lables'] } }),
  'other-org.json': JSON.stringify({
    kind: 'traffic',
    traffic: { sources: { include: ['/orgs/2/labels/7'] } },
  }),
  'max-wait.json': JSON.stringify({ path: '/labels', maxWaitSeconds: 0 }),
  'no-pem.pem': 'this is not a certificate\n',
  'notes.txt': 'a file where a directory is meant\n',
  'not-json.json': 'path=/labels\n',
  'trailing-comma.json': '{"path": "/labels",}',
  'array.json': '[{"path": "/labels"}]',
  'broken.pem': '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n',
};

const MISTAKES: readonly Mistake[] = [
  {
    what: 'a scheme other than https',
    args: ['run', '--pce-url', 'ftp://pce.example.com', '--org', '1', '--path', '/labels'],
    says: '--pce-url must use https: use --pce-url https://pce.example.com',
  },
  {
    what: 'http to a host that is not loopback',
    args: ['run', '--pce-url', 'http://pce.example.com:8443', '--org', '1', '--path', '/labels'],
    says: '--pce-url must use https (http is only accepted for a PCE on the loopback interface): use --pce-url https://pce.example.com:8443',
  },
  {
    what: 'the API prefix in --pce-url',
    args: ['run', '--pce-url', 'https://pce.example.com:8443/api/v2', '--org', '1', '--path', '/labels'],
    says: '--pce-url must be the PCE origin only: leave out /api/v2 and give "https://pce.example.com:8443"',
  },
  {
    what: 'credentials in --pce-url',
    args: [
      'run',
      '--pce-url',
      `https://${API_KEY}:${API_SECRET}@pce.example.com`,
      '--org',
      '1',
      '--path',
      '/labels',
    ],
    says: '--pce-url must not hold credentials: set PCE_API_KEY and PCE_API_SECRET in the environment',
  },
  {
    what: 'the API prefix and the org in --path',
    args: ['run', ...PCE, '--path', '/api/v2/orgs/1/labels'],
    says: '--path "/api/v2/orgs/1/labels" starts with /api/v2 and names the org: use --path /labels (the path is relative to the org, which --org gives)',
  },
  {
    what: 'the org in --path',
    args: ['run', ...PCE, '--path', '/orgs/1/labels'],
    says: '--path "/orgs/1/labels" names the org: use --path /labels (the path is relative to the org, which --org gives)',
  },
  {
    what: 'another org in --path',
    args: ['run', ...PCE, '--path', '/orgs/2/sec_policy/draft/rule_sets'],
    says: '--path "/orgs/2/sec_policy/draft/rule_sets" names org 2: use --path /sec_policy/draft/rule_sets --org 2 (the path is relative to the org, which --org gives)',
  },
  {
    what: 'a query in --path',
    args: ['run', ...PCE, '--path', '/labels?key=env'],
    says: '--path "/labels?key=env" holds a query: use --path /labels --query key=env',
  },
  {
    what: "one object's href in --path",
    args: ['run', ...PCE, '--path', '/labels/3'],
    says: '--path "/labels/3" names one object (an export takes a collection): use --path /labels',
  },
  {
    what: "one object's href in --input-json",
    args: ['run', ...PCE, '--input-json', 'one-label.json'],
    says: '--input-json one-label.json: path names one object, not a collection: export "/labels" with a query to filter it',
  },
  {
    what: 'a path without its leading slash',
    args: ['run', ...PCE, '--path', 'labels'],
    says: '--path "labels" does not start with "/": use --path /labels',
  },
  {
    what: 'org 0',
    args: ['run', '--pce-url', 'https://pce.example.com:8443', '--org', '0', '--path', '/labels'],
    says: '--org must be a positive integer, not "0"',
  },
  {
    what: 'an org that is not a number',
    args: ['run', '--pce-url', 'https://pce.example.com:8443', '--org', 'abc', '--path', '/labels'],
    says: '--org must be a positive integer, not "abc"',
  },
  {
    what: 'an org id no PCE hands out',
    args: ['run', '--pce-url', 'https://pce.example.com:8443', '--org', '2147483648', '--path', '/labels'],
    says: '--org must be at most 2147483647, not "2147483648"',
  },
  {
    what: 'an unknown flag',
    args: ['run', ...PCE, '--path', '/labels', '--bogus'],
    says: 'unknown option --bogus',
  },
  {
    what: 'a mistyped flag',
    args: ['run', ...PCE, '--path', '/labels', '--max-wiat', '60'],
    says: 'unknown option --max-wiat: did you mean --max-wait?',
  },
  {
    what: 'a flag of another tool',
    args: ['run', '--pce-url', 'https://pce.example.com:8443', '--org-id', '1', '--path', '/labels'],
    says: 'unknown option --org-id: did you mean --org?',
  },
  {
    what: 'a flag without its value',
    args: ['run', '--pce-url', 'https://pce.example.com:8443', '--org', '--path', '/labels'],
    says: '--org needs a value; it is followed by the option --path',
  },
  {
    what: 'a value for a switch',
    args: ['run', ...PCE, '--path', '/labels', '--gzip=false'],
    says: '--gzip takes no value (give --gzip on its own)',
  },
  {
    what: 'a value without its flag',
    args: ['run', ...PCE, '/labels'],
    says: 'unexpected argument "/labels" (every value follows its flag, e.g. --path /labels)',
  },
  {
    what: '--max-wait 0',
    args: ['run', ...PCE, '--path', '/labels', '--max-wait', '0'],
    says: '--max-wait must be at least 1 second, not 0',
  },
  {
    what: '--max-wait -1',
    args: ['run', ...PCE, '--path', '/labels', '--max-wait', '-1'],
    says: '--max-wait must be at least 1 second, not -1',
  },
  {
    what: '--max-wait with a unit',
    args: ['run', ...PCE, '--path', '/labels', '--max-wait', '2h'],
    says: '--max-wait must be a number of seconds, not "2h"',
  },
  {
    what: '--max-results above the PCE limit',
    args: ['run', ...PCE, '--traffic', '--max-results', '300000'],
    says: '--max-results must be at most 200000, not 300000',
  },
  {
    what: 'a format that does not exist',
    args: ['run', ...PCE, '--path', '/labels', '--format', 'csv'],
    says: '--format must be raw, ndjson or parquet, not "csv"',
  },
  {
    what: 'a duration with an unknown unit',
    args: ['run', ...PCE, '--traffic', '--since', '24x'],
    says: '--since must be a duration such as "24h", "last 7d" or "90m" (m, h, d or w), not "24x"',
  },
  {
    what: '--start after --end',
    args: ['run', ...PCE, '--traffic', '--start', '2026-03-02T00:00:00Z', '--end', '2026-03-01T00:00:00Z'],
    says: '--end must be after --start',
  },
  {
    what: '--since with --start',
    args: ['run', ...PCE, '--traffic', '--since', '7d', '--start', '2026-03-01T00:00:00Z'],
    says: '--since cannot be combined with --start or --end',
  },
  {
    what: 'a window flag without --traffic or --events',
    args: ['run', ...PCE, '--path', '/labels', '--since', '24h'],
    says: '--since goes with --traffic or --events',
  },
  {
    what: '--traffic with --events',
    args: ['run', ...PCE, '--traffic', '--events'],
    says: '--traffic and --events are two kinds of export: give one',
  },
  {
    what: 'a traffic flag with --events',
    args: ['run', ...PCE, '--events', '--policy-decision', 'blocked'],
    says: '--policy-decision goes with --traffic',
  },
  {
    what: '--overlap without --incremental',
    args: ['run', ...PCE, '--events', '--overlap', '15m'],
    says: '--overlap is only used with "--incremental": true',
  },
  {
    what: 'an overlap longer than a day',
    args: ['run', ...PCE, '--events', '--incremental', '--overlap', '2d'],
    says: '--overlap must be at most 1 day, not "2d"',
  },
  {
    what: 'an actor of another org',
    args: ['run', ...PCE, '--traffic', '--source', '/orgs/2/labels/7'],
    says: '--source "/orgs/2/labels/7" belongs to org 2, not --org 1',
  },
  {
    what: 'an actor of another org in a group',
    args: ['run', ...PCE, '--traffic', '--exclude-destination', '/orgs/3/sec_policy/active/ip_lists/1'],
    says: '--exclude-destination "/orgs/3/sec_policy/active/ip_lists/1" belongs to org 3, not --org 1',
  },
  {
    what: 'an actor href without its org',
    args: ['run', ...PCE, '--traffic', '--source', 'labels/7'],
    says: '--source "labels/7" is not an href: use --source /orgs/1/labels/7',
  },
  {
    what: 'a label value without its key',
    args: ['run', ...PCE, '--traffic', '--destination', 'prod'],
    says: '--destination must be a label, label group, workload or IP list href (e.g. "/orgs/1/labels/7"), a label as key=value (e.g. "env=prod"), or an IP address or CIDR block, not "prod"',
  },
  {
    what: 'an unknown exportName in --input-json',
    args: ['run', ...PCE, '--input-json', 'unknown-export.json'],
    says: '--input-json unknown-export.json: export "nightly-workloads" is not configured (configured in config/pce-export.json: workloads, labels, rule-sets, traffic) and path is missing',
  },
  {
    what: 'an unknown field in --input-json',
    args: ['run', ...PCE, '--input-json', 'unknown-field.json'],
    says: '--input-json unknown-field.json has unknown field "colour"',
  },
  {
    what: 'a number out of range in --input-json',
    args: ['run', ...PCE, '--input-json', 'max-wait.json'],
    says: '--input-json max-wait.json: maxWaitSeconds must be at least 1 second, not 0',
  },
  {
    what: 'an unknown snapshot',
    args: ['run', ...PCE, '--input-json', 'unknown-snapshot.json'],
    says: '--input-json unknown-snapshot.json: snapshot "nightly" is not configured (configured in config/pce-export.json: policy-model) and snapshot.exports is missing',
  },
  {
    what: 'a mistyped export in a snapshot',
    args: ['run', ...PCE, '--input-json', 'snapshot-member.json'],
    says: '--input-json snapshot-member.json: snapshot.exports[1] names export "lables", which is not configured (configured in config/pce-export.json: workloads, labels, rule-sets, traffic)',
  },
  {
    what: 'an actor of another org in --input-json',
    args: ['run', ...PCE, '--input-json', 'other-org.json'],
    says: '--input-json other-org.json: traffic.sources.include[0] "/orgs/2/labels/7" belongs to org 2, not --org 1',
  },
  {
    what: 'export flags beside --input-json',
    args: ['run', ...PCE, '--input-json', 'unknown-field.json', '--format', 'raw'],
    says: '--format does not go with --input-json: the file holds the whole input',
  },
  {
    what: 'no PCE_API_KEY',
    args: ['run', ...PCE, '--path', '/labels'],
    env: { PCE_API_KEY: undefined },
    says: 'PCE_API_KEY must be set in the environment: export PCE_API_KEY=api_… PCE_API_SECRET=… (credentials are never taken from flags)',
  },
  {
    what: 'the placeholder key of a fresh deployment',
    args: ['run', ...PCE, '--path', '/labels'],
    env: { PCE_API_KEY: 'api_REPLACE_ME' },
    says: "PCE_API_KEY still holds the placeholder; put the PCE API key's username (api_…) in PCE_API_KEY and its secret in PCE_API_SECRET",
  },
  {
    what: 'a key pasted with a space',
    args: ['run', ...PCE, '--path', '/labels'],
    env: { PCE_API_KEY: `${API_KEY} x` },
    says: 'PCE_API_KEY must be the API key username (api_…) without spaces or ":"',
  },
  {
    what: 'a --ca-file that is not there',
    args: ['run', ...PCE, '--path', '/labels', '--ca-file', 'missing.pem'],
    says: '--ca-file missing.pem cannot be read (ENOENT)',
  },
  {
    what: 'a --ca-file without PEM',
    args: ['run', ...PCE, '--path', '/labels', '--ca-file', 'no-pem.pem'],
    says: '--ca-file no-pem.pem must be PEM certificates (-----BEGIN CERTIFICATE----- …)',
  },
  {
    what: 'a --ca-file with a broken certificate',
    args: ['run', ...PCE, '--path', '/labels', '--ca-file', 'broken.pem'],
    says: 'Certificate 1 of --ca-file broken.pem cannot be parsed',
  },
  {
    what: 'demo --workloads -5',
    args: ['demo', '--workloads', '-5'],
    says: '--workloads must be a whole number from 1 to 10000000, not "-5"',
  },
  {
    what: 'a bucket name with capitals',
    args: ['run', ...PCE, '--path', '/labels', '--out', 's3://Bad_Bucket'],
    says: '--out "s3://Bad_Bucket" does not name a valid S3 bucket (3 to 63 lowercase letters, digits, "." and "-"): use --out s3://bad-bucket',
  },
  {
    what: '--s3-endpoint without an S3 --out',
    args: ['run', ...PCE, '--path', '/labels', '--s3-endpoint', 'http://127.0.0.1:9000'],
    says: '--s3-endpoint goes with --out s3://BUCKET/PREFIX',
  },
  {
    what: '--gzip with --no-gzip',
    args: ['run', ...PCE, '--path', '/labels', '--gzip', '--no-gzip'],
    says: '--gzip and --no-gzip contradict each other: give one',
  },
  {
    what: 'a query without "="',
    args: ['run', ...PCE, '--path', '/labels', '--query', 'managed'],
    says: '--query must be KEY=VALUE, not "managed"',
  },
  {
    what: 'no --pce-url',
    args: ['run', '--org', '1', '--path', '/labels'],
    says: '--pce-url is required (e.g. --pce-url https://pce.example.com:8443)',
  },
  {
    what: 'a flag spelt with "_"',
    args: ['run', '--pce_url', 'https://pce.example.com:8443', '--org', '1', '--path', '/labels'],
    says: 'unknown option --pce_url: did you mean --pce-url?',
  },
  {
    what: 'a flag with a letter left out',
    args: ['run', ...PCE, '--path', '/labels', '--ouput', 'exports'],
    says: 'unknown option --ouput: did you mean --out?',
  },
  {
    what: '--output for --out',
    args: ['run', ...PCE, '--path', '/labels', '--output', 'exports'],
    says: 'unknown option --output: did you mean --out?',
  },
  {
    what: '-o for --out',
    args: ['run', ...PCE, '--path', '/labels', '-o', 'exports'],
    says: 'unknown option -o: did you mean --out?',
  },
  {
    what: 'the camel-case name of the input field',
    args: ['run', ...PCE, '--path', '/labels', '--exportName', 'labels'],
    says: 'unknown option --exportName: did you mean --export-name?',
  },
  {
    what: '--until for --end',
    args: ['run', ...PCE, '--traffic', '--start', '2026-03-01T00:00:00Z', '--until', '2026-03-02T00:00:00Z'],
    says: 'unknown option --until: did you mean --end?',
  },
  {
    what: 'a mistyped --until',
    args: ['run', ...PCE, '--traffic', '--start', '2026-03-01T00:00:00Z', '--untl', '2026-03-02T00:00:00Z'],
    says: 'unknown option --untl: did you mean --end?',
  },
  {
    what: 'a flag with a letter left out, close to a hinted one too',
    args: ['run', ...PCE, '--path', '/labels', '--ot', 'exports'],
    says: 'unknown option --ot: did you mean --out?',
  },
  {
    what: '--from for --start',
    args: ['run', ...PCE, '--traffic', '--from', '2026-03-01T00:00:00Z'],
    says: 'unknown option --from: did you mean --start?',
  },
  {
    what: '--src for --source',
    args: ['run', ...PCE, '--traffic', '--src', '10.1.0.0/16'],
    says: 'unknown option --src: did you mean --source?',
  },
  {
    what: 'the API key as a flag',
    args: ['run', ...PCE, '--path', '/labels', '--api-key', API_KEY],
    says: 'unknown option --api-key: credentials are never taken from flags: set PCE_API_KEY and PCE_API_SECRET in the environment',
  },
  {
    what: "curl's --insecure",
    args: ['run', ...PCE, '--path', '/labels', '--insecure'],
    says: "unknown option --insecure: the PCE's certificate is always verified: give the CA that issued it with --ca-file PEM",
  },
  {
    what: "curl's -x for the proxy",
    args: ['run', ...PCE, '--path', '/labels', '-x', 'http://proxy.example.com:3128'],
    says: 'unknown option -x: did you mean --proxy?',
  },
  {
    what: '--verbose',
    args: ['run', ...PCE, '--path', '/labels', '--verbose'],
    says: "unknown option --verbose: progress always goes to stderr; POWERTOOLS_LOG_LEVEL=DEBUG in the environment adds the functions' log lines",
  },
  {
    what: 'a flag without its value at the end',
    args: ['run', ...PCE, '--path'],
    says: '--path needs a value',
  },
  {
    what: 'a flag given twice',
    args: ['run', ...PCE, '--traffic', '--since', '24h', '--since', '7d'],
    says: '--since is given twice',
  },
  {
    what: 'a query key given twice',
    args: ['run', ...PCE, '--path', '/workloads', '--query', 'managed=true', '--query', 'managed=false'],
    says: '--query managed= is given twice: give each key once (a PCE query takes one value per key)',
  },
  {
    what: '--path with --traffic',
    args: ['run', ...PCE, '--traffic', '--path', '/labels'],
    says: '--path does not go with --traffic (a traffic export has no collection path)',
  },
  {
    what: '--end without --start',
    args: ['run', ...PCE, '--traffic', '--end', '2026-03-01T00:00:00Z'],
    says: '--end needs --start',
  },
  {
    what: 'a negative --since',
    args: ['run', ...PCE, '--traffic', '--since', '-24h'],
    says: '--since must be a duration such as "24h", "last 7d" or "90m" (m, h, d or w), not "-24h"',
  },
  {
    what: 'a --start that is not a time',
    args: ['run', ...PCE, '--traffic', '--start', 'yesterday'],
    says: '--start must be an ISO 8601 date, or a time with its zone, e.g. "2026-01-31T00:00:00Z", not "yesterday"',
  },
  {
    what: 'a policy decision of another product',
    args: ['run', ...PCE, '--traffic', '--policy-decision', 'denied'],
    says: '--policy-decision must be one of allowed, potentially_blocked, blocked, unknown, not "denied"',
  },
  {
    what: 'an actor list with an empty part',
    args: ['run', ...PCE, '--traffic', '--source', '/orgs/1/labels/7,'],
    says: '--source "/orgs/1/labels/7," has an empty actor: A,B needs an actor on each side of every ","',
  },
  {
    what: 'a format in capitals',
    args: ['run', ...PCE, '--path', '/labels', '--format', 'NDJSON'],
    says: '--format must be raw, ndjson or parquet, not "NDJSON"',
  },
  {
    what: '--format json',
    args: ['run', ...PCE, '--path', '/labels', '--format', 'json'],
    says: '--format must be raw, ndjson or parquet, not "json"',
  },
  {
    what: 'an export name with a space',
    args: ['run', ...PCE, '--path', '/labels', '--export-name', 'my labels'],
    says: '--export-name must be letters, digits, "_" and "-", at most 64, starting with a letter or digit, not "my labels"',
  },
  {
    what: '--max-wait that is not whole',
    args: ['run', ...PCE, '--path', '/labels', '--max-wait', '1.5'],
    says: '--max-wait must be a whole number, not 1.5',
  },
  {
    what: '--out below a file',
    args: ['run', ...PCE, '--path', '/labels', '--out', 'notes.txt/exports'],
    says: '--out "notes.txt/exports" cannot be written: notes.txt is a file; give --out a directory you can write to',
  },
  ...(process.platform === 'linux'
    ? [
        {
          what: '--out where no directory can be made',
          args: ['run', ...PCE, '--path', '/labels', '--out', '/proc/pce-export'],
          says: '--out "/proc/pce-export" cannot be written: /proc does not take new files (ENOENT); give --out a directory you can write to',
        },
      ]
    : []),
  {
    what: 'a --ca-file that is a directory',
    args: ['run', ...PCE, '--path', '/labels', '--ca-file', '.'],
    says: '--ca-file . cannot be read (EISDIR)',
  },
  {
    what: 'an --input-json file that is not JSON',
    args: ['run', ...PCE, '--input-json', 'not-json.json'],
    says: "--input-json not-json.json is not valid JSON (Unexpected token 'p')",
  },
  {
    what: 'an --input-json file with a trailing comma',
    args: ['run', ...PCE, '--input-json', 'trailing-comma.json'],
    says: '--input-json trailing-comma.json is not valid JSON (Expected double-quoted property name at line 1, column 20)',
  },
  {
    what: 'an --input-json file holding an array',
    args: ['run', ...PCE, '--input-json', 'array.json'],
    says: '--input-json array.json must hold one JSON object',
  },
  {
    what: 'an --input-json file that is not there',
    args: ['run', ...PCE, '--input-json', 'nightly.json'],
    says: '--input-json nightly.json cannot be read (ENOENT)',
  },
  {
    what: 'a placeholder secret',
    args: ['run', ...PCE, '--path', '/labels'],
    env: { PCE_API_SECRET: 'REPLACE_ME' },
    says: "PCE_API_SECRET still holds the placeholder; put the PCE API key's username (api_…) in PCE_API_KEY and its secret in PCE_API_SECRET",
  },
  {
    what: 'no credentials at all',
    args: ['run', ...PCE, '--path', '/labels'],
    env: { PCE_API_KEY: undefined, PCE_API_SECRET: undefined },
    says: 'PCE_API_KEY and PCE_API_SECRET must be set in the environment: export PCE_API_KEY=api_… PCE_API_SECRET=… (credentials are never taken from flags)',
  },
  {
    what: 'demo --workloads 0',
    args: ['demo', '--workloads', '0'],
    says: '--workloads must be a whole number from 1 to 10000000, not "0"',
  },
  {
    what: 'demo --gzip',
    args: ['demo', '--gzip'],
    says: 'unknown option --gzip: the demo gzips by default (--no-gzip stores the object uncompressed)',
  },
  {
    what: 'demo to S3',
    args: ['demo', '--out', 's3://pce-exports'],
    says: '--out of demo is a directory (pce-export run writes to --out s3://BUCKET/PREFIX)',
  },
  {
    what: 'a mistyped simulate flag',
    args: ['simulate', '--prot', '18443'],
    says: 'unknown option --prot: did you mean --port?',
  },
  {
    what: 'simulate --workloads -1',
    args: ['simulate', '--workloads', '-1'],
    says: '--workloads must be a whole number from 0 to 50000000, not "-1"',
  },
  {
    what: 'simulate on every interface',
    args: ['simulate', '--host', '0.0.0.0'],
    says: '--host must be a loopback address (127.0.0.1, ::1, localhost), not "0.0.0.0"',
  },
  {
    what: 'simulate --port without its value',
    args: ['simulate', '--port'],
    says: '--port needs a value',
  },
  {
    what: 'asl with an option',
    args: ['asl', '--json'],
    says: 'asl takes no options, not "--json"',
  },
  {
    what: 'a mistyped --version',
    args: ['--verison'],
    says: 'unknown command "--verison": did you mean --version? (commands: demo, run, simulate, asl)',
  },
  {
    what: 'a mistyped command',
    args: ['rnu', ...PCE, '--path', '/labels'],
    says: 'unknown command "rnu": did you mean run? (commands: demo, run, simulate, asl)',
  },
];

/** Mistakes also made through bin/pce-export: one of each kind of check, from the flag parser to the simulator's. */
const THROUGH_THE_EXECUTABLE: readonly string[] = [
  'http to a host that is not loopback',
  'the API prefix and the org in --path',
  'a query in --path',
  'a mistyped flag',
  '--output for --out',
  '--max-wait 0',
  'an actor of another org',
  'an unknown exportName in --input-json',
  'an unknown snapshot',
  'an --input-json file that is not JSON',
  '--out below a file',
  'the placeholder key of a fresh deployment',
  'demo --workloads -5',
  'simulate --workloads -1',
];

/** Sets each variable of `values` in `env`, removing those that are undefined. */
function assignEnv(env: NodeJS.ProcessEnv, values: Readonly<Record<string, string | undefined>>): void {
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
}

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

describe('a mistyped command', () => {
  let dir: string;
  let cwd: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pce-export-mistakes-'));
    for (const [name, text] of Object.entries(FILES)) await writeFile(join(dir, name), text);
    cwd = process.cwd();
    process.chdir(dir);
  });
  afterAll(async () => {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  });

  async function inProcess(mistake: Mistake): Promise<Result> {
    const env = { PCE_API_KEY: API_KEY, PCE_API_SECRET: API_SECRET, ...mistake.env };
    const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
    assignEnv(process.env, env);
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: CliIo = { stdout: (line) => stdout.push(line), stderr: (line) => stderr.push(line) };
    try {
      const code = await main(mistake.args, io);
      return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
    } finally {
      assignEnv(process.env, saved);
    }
  }

  it.each(MISTAKES.map((mistake) => [mistake.what, mistake] as const))(
    'exits 2 for %s, naming what to change',
    async (_what, mistake) => {
      const result = await inProcess(mistake);

      expect(result.code).toBe(2);
      expect(result.stdout.split('\n')).toHaveLength(1);
      expect(JSON.parse(result.stdout)).toEqual({ error: 'UsageError', cause: mistake.says });
      expect(result.stderr).toContain(
        `${mistake.args[0] === 'simulate' ? 'pce-export simulate' : 'pce-export'}: ${mistake.says}`,
      );
      expect(`${result.stdout}${result.stderr}`).not.toContain(API_SECRET);
    },
  );

  it.each(
    MISTAKES.filter((mistake) => THROUGH_THE_EXECUTABLE.includes(mistake.what)).map(
      (mistake) => [mistake.what, mistake] as const,
    ),
  )('exits 2 from bin/pce-export too for %s, with the one JSON line on stdout', async (_what, mistake) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PCE_API_KEY: API_KEY, PCE_API_SECRET: API_SECRET };
    assignEnv(env, mistake.env ?? {});
    const failed = await exec(process.execPath, [BIN, ...mistake.args], { cwd: dir, env }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

    expect(failed?.code).toBe(2);
    expect(failed?.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(failed?.stdout ?? '')).toEqual({ error: 'UsageError', cause: mistake.says });
    expect(failed?.stderr).toContain(mistake.says);
  });

  it('exits 2 for a simulate --port that is in use, naming another to give', async () => {
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await inProcess({
        what: 'a port in use',
        args: ['simulate', '--port', String(port)],
        says: '',
      });

      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        error: 'UsageError',
        cause: `--port ${port} is in use on 127.0.0.1: give another --port, or --port 0 for any free one`,
      });
    } finally {
      await new Promise((done) => taken.close(done));
    }
  });
});
