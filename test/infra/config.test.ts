import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportInputOf, loadConfig, parseConfig } from '../../lib/config';
import { REPO_ROOT } from '../../lib/lambda-defaults';
import { configObject } from './support';

type Config = ReturnType<typeof configObject>;

function exportAt(config: Config, index: number): Record<string, unknown> {
  const entry = config.exports[index];
  if (!entry) throw new Error(`the test configuration has no exports[${index}]`);
  return entry;
}

describe('deploy configuration', () => {
  it('accepts the example configuration in config/pce-export.json', () => {
    const config = loadConfig(join(REPO_ROOT, 'config', 'pce-export.json'));

    expect(config.pce).toEqual({ url: 'https://pce.example.com:8443', orgId: 1 });
    expect(config.exports.map((entry) => [entry.name, entry.schedule !== undefined])).toEqual([
      ['workloads', true],
      ['labels', false],
      ['rule-sets', false],
      ['traffic', true],
    ]);
  });

  it('fills in the defaults', () => {
    const config = parseConfig(
      {
        pce: { url: 'https://pce.example.com:8443/', orgId: 3 },
        bucket: { prefix: '' },
        exports: [
          { name: 'labels', kind: 'collection', path: '/labels', schedule: { expression: 'rate(1 day)' } },
        ],
      },
      'test',
    );

    expect(config).toEqual({
      pce: { url: 'https://pce.example.com:8443', orgId: 3 },
      secret: {},
      bucket: { prefix: '' },
      exports: [
        {
          name: 'labels',
          kind: 'collection',
          path: '/labels',
          schedule: { expression: 'rate(1 day)', timeZone: 'UTC', enabled: true },
        },
      ],
      maxPollIntervalSeconds: 300,
      logRetentionDays: 30,
    });
  });

  it('accepts http only for a PCE on the loopback interface', () => {
    const config = configObject();
    config.pce.url = 'http://127.0.0.1:8443';

    expect(parseConfig(config, 'test').pce?.url).toBe('http://127.0.0.1:8443');
  });

  it('turns a configured export into the execution input a schedule passes', () => {
    const [workloads] = parseConfig(configObject(), 'test').exports;
    if (!workloads) throw new Error('no export');

    expect(exportInputOf(workloads)).toEqual({
      exportName: 'workloads',
      path: '/workloads',
      query: { managed: 'true' },
      format: 'ndjson',
      gzip: true,
      maxWaitSeconds: 3600,
    });
  });

  it.each<[string, (config: Config) => void, string]>([
    [
      'a schedule expression that is not rate, cron or at',
      (config) => {
        exportAt(config, 1).schedule = { expression: 'every day', timeZone: 'UTC' };
      },
      'exports[1].schedule.expression must be rate(...), cron(...) or at(...)',
    ],
    [
      'a cron expression with five fields',
      (config) => {
        exportAt(config, 0).schedule = { expression: 'cron(0 5 * * ?)', timeZone: 'UTC' };
      },
      'exports[0].schedule.expression "cron(0 5 * * ?)" is malformed',
    ],
    [
      'an unknown time zone',
      (config) => {
        exportAt(config, 0).schedule = { expression: 'rate(1 day)', timeZone: 'Europe/Atlantis' };
      },
      'exports[0].schedule.timeZone "Europe/Atlantis" is not a known IANA time zone',
    ],
    [
      'a time zone in the wrong case',
      (config) => {
        exportAt(config, 0).schedule = { expression: 'rate(1 day)', timeZone: 'europe/zurich' };
      },
      'exports[0].schedule.timeZone must be spelled as the IANA time zone "Europe/Zurich"',
    ],
    [
      'a traffic export with a collection path',
      (config) => {
        exportAt(config, 2).kind = 'traffic';
      },
      'exports[2].path is not used by a traffic export: its query goes in "traffic"',
    ],
    [
      'a collection export with a traffic query',
      (config) => {
        exportAt(config, 1).traffic = { since: '24h' };
      },
      'exports[1].traffic is only used by a traffic export: set "kind" to "traffic"',
    ],
    [
      'a collection export without a path',
      (config) => {
        delete exportAt(config, 1).path;
      },
      'exports[1].path is required for a collection export',
    ],
    [
      'a traffic query with more than 200,000 results',
      (config) => {
        config.exports.push({ name: 'traffic', kind: 'traffic', traffic: { maxResults: 200_001 } });
      },
      'exports[3].traffic.maxResults must be at most 200000',
    ],
    [
      'a traffic query with an unknown policy decision',
      (config) => {
        config.exports.push({ name: 'traffic', kind: 'traffic', traffic: { policyDecisions: ['denied'] } });
      },
      'exports[3].traffic.policyDecisions[0] must be one of allowed, potentially_blocked, blocked, unknown',
    ],
    [
      'a traffic query with both a relative and an absolute range',
      (config) => {
        config.exports.push({
          name: 'traffic',
          kind: 'traffic',
          traffic: { since: '24h', start: '2026-01-01T00:00:00Z' },
        });
      },
      'exports[3].traffic.since cannot be combined with start or end',
    ],
    [
      'an unknown export kind',
      (config) => {
        exportAt(config, 0).kind = 'table';
      },
      'exports[0].kind must be "collection" or "traffic"',
    ],
    [
      'two exports with the same name',
      (config) => {
        exportAt(config, 2).name = 'workloads';
      },
      'exports[2].name "workloads" is already used by exports[0]; export names must be unique',
    ],
    [
      'a plain-http PCE URL',
      (config) => {
        config.pce.url = 'http://pce.example.com:8443';
      },
      'pce.url must use https (http is only accepted for a PCE on the loopback interface)',
    ],
    [
      'a PCE URL carrying credentials',
      (config) => {
        config.pce.url = 'https://api_1:secret@pce.example.com:8443';
      },
      'pce.url must not contain credentials',
    ],
    [
      'a fractional org id',
      (config) => {
        config.pce.orgId = 1.5;
      },
      'pce.orgId must be a positive integer',
    ],
    [
      'a missing org id',
      (config) => {
        delete config.pce.orgId;
      },
      'pce.orgId is required',
    ],
    [
      'a prefix with a leading slash',
      (config) => {
        config.bucket.prefix = '/pce/';
      },
      'bucket.prefix must not start with "/"',
    ],
    [
      'a prefix without a trailing slash',
      (config) => {
        config.bucket.prefix = 'pce';
      },
      'bucket.prefix must be empty or end with "/"',
    ],
    [
      'an invalid bucket name',
      (config) => {
        config.bucket.name = 'My_Bucket';
      },
      'bucket.name must be an S3 bucket name',
    ],
    [
      'both a secret name and ARN',
      (config) => {
        config.secret = {
          name: 'pce',
          arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pce-AbC123',
        };
      },
      'secret gives both "name" and "arn"',
    ],
    [
      'a partial secret ARN',
      (config) => {
        config.secret = { arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pce' };
      },
      'secret.arn must be the complete secret ARN',
    ],
    [
      'a bad export path',
      (config) => {
        exportAt(config, 0).path = '/orgs/1/workloads';
      },
      'exports[0].path is relative to the org',
    ],
    [
      'an unknown output format',
      (config) => {
        exportAt(config, 0).format = 'csv';
      },
      'exports[0].format must be "raw" or "ndjson"',
    ],
    [
      'a wait beyond a day',
      (config) => {
        exportAt(config, 0).maxWaitSeconds = 100_000;
      },
      'exports[0].maxWaitSeconds must be at most 86400',
    ],
    [
      'a log retention CloudWatch does not offer',
      (config) => {
        config.logRetentionDays = 31;
      },
      'logRetentionDays must be one of 1, 3, 5, 7, 14, 30,',
    ],
    [
      'a Fetch memory size above the Lambda limit of 10,240 MB',
      (config) => {
        config.fetchMemoryMb = 20_000;
      },
      'fetchMemoryMb must be',
    ],
    [
      'an invalid alarm email',
      (config) => {
        config.alarmEmail = 'ops at example.com';
      },
      'alarmEmail must be an email address',
    ],
    [
      'a misspelt field',
      (config) => {
        exportAt(config, 0).formats = 'raw';
      },
      'exports[0] has unknown field(s) "formats"',
    ],
  ])('rejects %s, naming the field', (_, change, message) => {
    const config = configObject();
    change(config);

    expect(() => parseConfig(config, 'config/pce-export.json')).toThrow(`config/pce-export.json: ${message}`);
  });

  it('rejects a configuration that is not an object', () => {
    expect(() => parseConfig([], 'x.json')).toThrow('x.json: the configuration must be a JSON object');
  });

  describe('from a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pce-export-config-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('names the file when it is not valid JSON', () => {
      const file = join(dir, 'broken.json');
      writeFileSync(file, '{ "pce": ');

      expect(() => loadConfig(file)).toThrow(/broken\.json: not valid JSON/);
    });

    it('names the file when it does not exist', () => {
      expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(
        /missing\.json: cannot read the configuration file \(ENOENT\)/,
      );
    });

    it('names the file and the field when a value is invalid', () => {
      const file = join(dir, 'invalid.json');
      const config = configObject();
      config.pce.orgId = -1;
      writeFileSync(file, JSON.stringify(config));

      expect(() => loadConfig(file)).toThrow(/invalid\.json: pce\.orgId must be a positive integer/);
    });
  });
});
