import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type CliOutcome, runBin } from '../support/cli';

// A loaded machine makes these tests slower, never wrong: they have no time limit.
vi.setConfig({ testTimeout: 0, hookTimeout: 0 });

/*
 * The README's commands, read from the README itself and run as written (the rule is stated in
 * its "Command line" section). A block is run when its commands call the command line
 * (`pce-export …`, `npx pce-export …`, `node bin/pce-export.mjs …`, `npm start`), in an empty
 * directory of its own, against `pce-export simulate` on loopback:
 *   - `https://pce.example.com:8443` and `127.0.0.1:18443` stand for the simulator (one started
 *     with --tls when the command has a --ca-file, which then holds its CA);
 *   - PCE_API_KEY / PCE_API_SECRET are the simulator's (an `export` of them is left out);
 *   - `$ cat FILE` followed by the file's content writes FILE;
 *   - `find DIR -type f | sort` lists the files the README shows, and must list exactly those;
 *   - the README's first `simulate --port N` listens on a free port instead, prints what the
 *     README shows and is the PCE of the other blocks; another `simulate` (with its faults, say)
 *     is started the same way and is the PCE of the next block that calls the command line ("in
 *     another shell"), with the key the README shows it taking from PCE_API_KEY;
 *   - a path under /tmp is one under the block's own directory, and a simulator's CA file
 *     (`/tmp/pce-simulator-…/ca.pem`) that of the simulator the block runs against;
 *   - `npm ci` and `npm test` are what CI runs anyway; anything else fails the test, so that a
 *     new kind of command in the README is noticed.
 * The JSON line shown for a command (its last line starting with "{") is compared field by
 * field: `…` stands for what is left out; dates, times, execution ids and generated
 * credentials vary.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pce-export.mjs');
const README_PORT = '18443';
const EXAMPLE_PCE = 'https://pce.example.com:8443';

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly lines: readonly string[];
}

type Step =
  | { readonly kind: 'cli'; readonly args: string[]; readonly shown: string[]; readonly text: string }
  | { readonly kind: 'file'; readonly name: string; readonly content: string }
  | { readonly kind: 'find'; readonly dir: string; readonly shown: string[] };

interface Runnable {
  readonly block: Block;
  readonly steps: Step[];
}

/** The fenced blocks of a Markdown text. */
function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  let open: { line: number; lang: string; lines: string[] } | undefined;
  text.split('\n').forEach((line, index) => {
    const fence = /^```(\S*)\s*$/.exec(line);
    if (fence && !open) open = { line: index + 1, lang: fence[1] ?? '', lines: [] };
    else if (fence && open) {
      blocks.push(open);
      open = undefined;
    } else open?.lines.push(line);
  });
  return blocks;
}

/** Shell words, with quotes and backslashes undone and a trailing comment dropped. */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (c === "'" || c === '"') {
      const end = command.indexOf(c, i + 1);
      word = (word ?? '') + command.slice(i + 1, end).replace(c === '"' ? /\\(["\\$`])/g : /$^/, '$1');
      i = end;
    } else if (c === '\\') {
      word = (word ?? '') + command.charAt(++i);
    } else if (c === '#' && word === undefined) {
      break;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** A block's commands with the lines shown below each: every `$ ` line, or every line of an `sh` block. */
function commandsOf(block: Block): { text: string; shown: string[] }[] {
  const commands: { text: string; shown: string[] }[] = [];
  const prompted = block.lang !== 'sh';
  for (let i = 0; i < block.lines.length; i++) {
    let line = block.lines[i] ?? '';
    if (prompted && !line.startsWith('$ ')) {
      commands.at(-1)?.shown.push(line);
      continue;
    }
    if (!prompted && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    let text = prompted ? line.slice(2) : line;
    while (/\\\s*$/.test(text.replace(/\s+#.*$/, '')) && i + 1 < block.lines.length) {
      text = `${text.replace(/\s+#.*$/, '').replace(/\\\s*$/, '')} `;
      line = block.lines[++i] ?? '';
      text += line.trim();
    }
    commands.push({ text, shown: [] });
  }
  return commands;
}

/** The CLI arguments a command stands for, or undefined when it does not run the command line. */
function cliArgs(words: readonly string[], scripts: Readonly<Record<string, string>>): string[] | undefined {
  const [first, second, ...rest] = words;
  if (first === 'pce-export') return words.slice(1);
  if (first === 'npx' && second === 'pce-export') return rest;
  if (first === 'node' && second === 'bin/pce-export.mjs') return rest;
  if (first === 'npm' && (second === 'start' || (second === 'run' && rest[0] === 'start'))) {
    const script = shellWords(scripts.start ?? '');
    return cliArgs(script, {});
  }
  return undefined;
}

/** The steps of a block that runs the command line; undefined for any other block. */
function runnableOf(block: Block, scripts: Readonly<Record<string, string>>): Runnable | undefined {
  if (!['sh', 'console', ''].includes(block.lang)) return undefined;
  const steps: Step[] = [];
  let runsCli = false;
  for (const { text, shown } of commandsOf(block)) {
    for (const part of text.split('&&').map((piece) => piece.trim())) {
      const words = shellWords(part);
      const args = cliArgs(words, scripts);
      if (args) {
        runsCli = true;
        steps.push({ kind: 'cli', args, shown, text: words.join(' ') });
      } else if (words[0] === 'cat' && words.length === 2 && words[1]) {
        steps.push({ kind: 'file', name: words[1], content: `${shown.join('\n')}\n` });
      } else if (words[0] === 'find' && words[2] === '-type' && words[3] === 'f' && words.at(-1) === 'sort') {
        steps.push({ kind: 'find', dir: words[1] ?? '.', shown });
      } else if (words[0] === 'export' && words.slice(1).every((w) => /^PCE_API_(KEY|SECRET)=/.test(w))) {
        // The simulator's credentials are used.
      } else if (words[0] === 'npm' && (words[1] === 'ci' || words[1] === 'test')) {
        // What CI runs before this test.
      } else {
        steps.push({ kind: 'cli', args: ['<not runnable>'], shown, text: words.join(' ') });
      }
    }
  }
  return runsCli ? { block, steps } : undefined;
}

/** A progress line on stderr: `[   5.6s] Execution succeeded`. */
const PROGRESS_LINE = /^\[ *\d+\.\ds\] /;
/** Progress lines that a faster or a slower machine prints more or fewer of: waits and samples. */
const MACHINE_PACED = /^\[ *\d+\.\ds\] (Poll \d+: job (pending|running); next poll|Fetch: .* so far$)/;

/** A regular expression for a value the README shows, with what varies from run to run left open. */
function shownPattern(shown: string): RegExp {
  // In a progress line, every number (a time, a poll count, a size) depends on the machine.
  const progress = PROGRESS_LINE.test(shown);
  const varying: [RegExp, string][] = [
    [/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, '[0-9a-f-]{36}'],
    [/^[0-9a-f]{8}-…/, '[0-9a-f-]{36}'],
    [/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/, '\\d{4}-\\d{2}-\\d{2}T[\\d:.]+Z'],
    [/^\d{4}-\d{2}-\d{2}/, '\\d{4}-\\d{2}-\\d{2}'],
    [/^\d{6}Z_/, '\\d{6}Z_'],
    [/^pce-simulator-[A-Za-z0-9]{6}/, 'pce-simulator-[A-Za-z0-9]{6}'],
    [/^\[ *\d+\.\ds\]/, '\\[ *\\d+\\.\\ds\\]'],
    [/^127\.0\.0\.1:\d+/, '127\\.0\\.0\\.1:\\d+'],
    [/^…/, '.*?'],
    ...(progress ? ([[/^\d+(\.\d+)?/, '\\d+(?:\\.\\d+)?']] as [RegExp, string][]) : []),
  ];
  let source = '';
  for (let rest = shown; rest.length > 0; ) {
    const match = varying.find(([pattern]) => pattern.test(rest));
    if (match) {
      const [pattern, replacement] = match;
      source += replacement;
      rest = rest.slice((pattern.exec(rest)?.[0] ?? ' ').length);
    } else {
      source += rest.charAt(0).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      rest = rest.slice(1);
    }
  }
  return new RegExp(`^${source}$`);
}

/** `"key":value` pairs of a JSON line the README shows with `…` in it. */
function shownFields(line: string): [string, string | number | boolean][] {
  const pairs = line.matchAll(/"([A-Za-z]+)":("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?=[,}\s])|true|false)/g);
  return [...pairs].map(([, key, raw]) => [
    key ?? '',
    JSON.parse(raw ?? 'null') as string | number | boolean,
  ]);
}

/** Every `[key, value]` of a JSON document, at any depth. */
function allFields(value: unknown): [string, unknown][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    [key, inner] as [string, unknown],
    ...allFields(inner),
  ]);
}

interface Simulator {
  readonly process: ChildProcess;
  readonly stdout: () => string;
  readonly ready: { url: string; apiKey: string; apiSecret: string; caFile?: string };
  readonly exited: Promise<number | null>;
}

/** The key the README shows a simulator taking from PCE_API_KEY, if it shows one. */
function keyFromEnvironment(shown: readonly string[]): string | undefined {
  for (const line of shown) {
    const key = /^ {2}api key: +(\S+) \(from PCE_API_KEY/.exec(line)?.[1];
    if (key) return key;
  }
  return undefined;
}

async function startSimulate(args: readonly string[], cwd: string, apiKey?: string): Promise<Simulator> {
  const credentials = apiKey ? { PCE_API_KEY: apiKey, PCE_API_SECRET: randomUUID() } : {};
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...withoutCredentials(), ...credentials },
  });
  let stdout = '';
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const ready = await new Promise<Simulator['ready']>((done, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((text) => text.startsWith('{"event":"ready"'));
      if (line) done({ apiSecret: credentials.PCE_API_SECRET, ...JSON.parse(line) } as Simulator['ready']);
    });
    child.on('exit', (code) =>
      fail(new Error(`simulate ${args.join(' ')} exited with ${code} before it was ready`)),
    );
  });
  return { process: child, stdout: () => stdout, ready, exited };
}

function withoutCredentials(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PCE_API_KEY;
  delete env.PCE_API_SECRET;
  return env;
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

/** What running a block's steps found, one entry per step. */
type StepResult =
  | {
      readonly step: Step & { kind: 'cli' };
      readonly outcome: CliOutcome;
      readonly expected: readonly string[];
      /** For a `simulate` step: the simulator it started. */
      readonly started?: Simulator;
    }
  | { readonly step: Step & { kind: 'find' }; readonly files: readonly string[] }
  | { readonly step: Step & { kind: 'file' } };

/** Whether every line `listed` matches a line of `actual`, in the order listed (others may come between). */
function listedInOrder(actual: readonly string[], listed: readonly string[]): boolean {
  let from = 0;
  for (const shown of listed) {
    const pattern = shownPattern(shown);
    const at = actual.findIndex((line, i) => i >= from && pattern.test(line));
    if (at < 0) return false;
    from = at + 1;
  }
  return true;
}

/** A CA file the README shows a `simulate --tls` writing. */
const SIMULATOR_CA = /^\/tmp\/pce-simulator-[^/]+\/ca\.pem$/;

/**
 * Whether `actual` reads as the lines `shown`: each shown line matches one actual line
 * (`shownPattern`), and a shown line that is only `…` stands for any number of lines.
 */
function linesMatch(actual: readonly string[], shown: readonly string[]): boolean {
  const [first, ...rest] = shown;
  if (first === undefined) return actual.length === 0;
  if (first === '…') return actual.some((_, i) => linesMatch(actual.slice(i), rest)) || linesMatch([], rest);
  const [line, ...others] = actual;
  return line !== undefined && shownPattern(first).test(line) && linesMatch(others, rest);
}

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const scripts = (
  JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts;
const blocks = fencedBlocks(readme);
const runnables = blocks.flatMap((block, index) => {
  const runnable = runnableOf(block, scripts);
  if (!runnable) return [];
  // A following block without commands shows the output of the block's command-line call.
  const next = blocks[index + 1];
  const last = runnable.steps.findLast((step): step is Step & { kind: 'cli' } => step.kind === 'cli');
  if (
    next &&
    next.lang === '' &&
    !next.lines.some((line) => line.startsWith('$ ')) &&
    last?.shown.length === 0
  )
    last.shown.push(...next.lines);
  return [runnable];
});
const firstCommand = (runnable: Runnable) =>
  runnable.steps.flatMap((step) => (step.kind === 'cli' ? [step.text.slice(0, 60)] : []))[0] ?? '';
const isSimulate = (step: Step) => step.kind === 'cli' && step.args[0] === 'simulate';

describe('the README', () => {
  const results = new Map<Runnable, StepResult[]>();
  const simulators: Simulator[] = [];
  let work: string;
  let plain: Simulator;
  let tls: Simulator;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'pce-export-readme-'));
    const readmeSimulate = runnables.find((runnable) => runnable.steps.some(isSimulate));
    const simulateStep = readmeSimulate?.steps.find(isSimulate);
    if (!readmeSimulate || simulateStep?.kind !== 'cli')
      throw new Error('the README shows no simulate command');
    [plain, tls] = await Promise.all([
      startSimulate(onFreePort(simulateStep.args), work),
      startSimulate(['simulate', '--tls', '--port', '0'], work),
    ]);
    simulators.push(plain, tls);
    results.set(readmeSimulate, [
      {
        step: simulateStep,
        outcome: { code: 0, stdout: plain.stdout(), stderr: '' },
        expected: onHost(simulateStep.shown, plain),
        started: plain,
      },
    ]);

    // A block that starts a simulator of its own goes with the next block, which runs against it.
    const others = runnables.filter((runnable) => runnable !== readmeSimulate);
    const queue: Runnable[][] = [];
    for (let i = 0; i < others.length; i++) {
      const runnable = others[i] as Runnable;
      const next = others[i + 1];
      if (runnable.steps.some(isSimulate) && next && !next.steps.some(isSimulate)) {
        queue.push([runnable, next]);
        i++;
      } else queue.push([runnable]);
    }
    const worker = async () => {
      for (let group = queue.shift(); group; group = queue.shift()) {
        let pce: Simulator | undefined;
        for (const runnable of group) {
          const cwd = await mkdtemp(join(work, `line-${runnable.block.line}-`));
          const found = await runBlock(runnable, cwd, pce);
          results.set(runnable, found);
          pce = found
            .flatMap((result) => ('started' in result && result.started ? [result.started] : []))
            .at(-1);
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  });

  afterAll(async () => {
    for (const simulator of simulators) simulator.process.kill('SIGINT');
    await Promise.all(simulators.map((simulator) => simulator.exited));
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Lines the README shows for the simulator on port 18443, for the one the test started. */
  function onHost(lines: readonly string[], simulator: Simulator): string[] {
    const host = new URL(simulator.ready.url).host;
    return lines.map((line) => line.replaceAll(`127.0.0.1:${README_PORT}`, host));
  }

  function onFreePort(args: readonly string[]): string[] {
    const port = args.indexOf('--port');
    return args.map((arg, i) => (port >= 0 && i === port + 1 ? '0' : arg));
  }

  /** A path the README shows, as the block's run uses it: see the rules at the top. */
  function localPath(arg: string, cwd: string, pce: Simulator): string {
    if (SIMULATOR_CA.test(arg)) return pce.ready.caFile ?? arg;
    return arg.startsWith('/tmp/') ? join(cwd, arg) : arg;
  }

  async function runBlock(runnable: Runnable, cwd: string, own?: Simulator): Promise<StepResult[]> {
    const found: StepResult[] = [];
    for (const step of runnable.steps) {
      if (step.kind === 'file') {
        const file = join(cwd, step.name);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, step.content);
        found.push({ step });
      } else if (step.kind === 'find') {
        found.push({ step, files: await listFiles(cwd, step.dir) });
      } else if (isSimulate(step)) {
        const args = onFreePort(step.args).map((arg) => (arg.startsWith('/tmp/') ? join(cwd, arg) : arg));
        const started = await startSimulate(args, cwd, keyFromEnvironment(step.shown));
        simulators.push(started);
        const stdout = started.stdout().replaceAll(cwd, '');
        found.push({
          step,
          outcome: { code: 0, stdout, stderr: '' },
          expected: onHost(step.shown, started),
          started,
        });
      } else {
        const pce = own ?? (step.args.includes('--ca-file') ? tls : plain);
        const caFile = step.args[step.args.indexOf('--ca-file') + 1];
        if (step.args.includes('--ca-file') && caFile && !SIMULATOR_CA.test(caFile) && pce.ready.caFile)
          await copyFile(pce.ready.caFile, join(cwd, caFile));
        const args = step.args.map((arg) =>
          arg === EXAMPLE_PCE
            ? pce.ready.url
            : localPath(arg, cwd, pce).replace(`127.0.0.1:${README_PORT}`, new URL(pce.ready.url).host),
        );
        const env = { ...process.env, PCE_API_KEY: pce.ready.apiKey, PCE_API_SECRET: pce.ready.apiSecret };
        const outcome =
          step.args[0] === '<not runnable>'
            ? { code: null, stdout: '', stderr: '' }
            : await runBin(args, cwd, env);
        found.push({ step, outcome, expected: onHost(step.shown, pce) });
      }
    }
    return found;
  }

  it('has command-line blocks to run, the simulate command among them', () => {
    const callsCli = blocks.filter((block) =>
      block.lines.some((line) => /^(\$ )?(npx )?pce-export (run|demo)\b/.test(line)),
    );

    expect(callsCli.length).toBeGreaterThan(0);
    for (const block of callsCli) expect(runnables.map((runnable) => runnable.block)).toContain(block);
    expect(runnables.some((runnable) => runnable.steps.some(isSimulate))).toBe(true);
  });

  it.each(runnables.map((runnable) => [runnable.block.line, firstCommand(runnable), runnable] as const))(
    'block at line %i (%s) runs as it shows',
    (_line, _command, runnable) => {
      for (const result of results.get(runnable) ?? []) {
        if (result.step.kind === 'find' && 'files' in result) {
          const shown = result.step.shown.map(shownPattern);
          expect(result.files, `find ${result.step.dir}`).toHaveLength(shown.length);
          result.files.forEach((file, i) => {
            expect(file).toMatch(shown[i] ?? /^$/);
          });
        }
        if (result.step.kind !== 'cli' || !('outcome' in result)) continue;
        const { outcome, expected, step } = result;
        if (isSimulate(step) && 'started' in result && result.started) {
          checkSimulate(outcome.stdout, expected, result.started);
          continue;
        }
        const shownJson = expected.findLast((line) => line.startsWith('{'));
        const fields = shownJson === undefined ? [] : shownFields(shownJson);
        const error = fields.find(([key]) => key === 'error')?.[1];
        const stderr = outcome.stderr.trimEnd().split('\n');
        const listed = expected.filter(
          (line) => line !== shownJson && line !== '…' && !MACHINE_PACED.test(line),
        );
        expect(
          listedInOrder(stderr, listed),
          `${step.text}: the README lists\n${listed.join('\n')}\non stderr, the run printed\n${outcome.stderr}`,
        ).toBe(true);
        // Output that ends in "…" leaves the end of the run out: what it lists is what is checked.
        if (shownJson !== undefined || expected.at(-1) !== '…')
          expect(outcome.code, `${step.text}\n${outcome.stderr}`).toBe(
            error === undefined ? 0 : error === 'UsageError' ? 2 : 1,
          );
        const lines = outcome.stdout.trimEnd().split('\n');
        expect(lines, step.text).toHaveLength(1);
        const actual = allFields(JSON.parse(lines[0] ?? ''));
        for (const [key, value] of fields) {
          const candidates = actual.filter(([name]) => name === key).map(([, inner]) => inner);
          const matches = candidates.some((inner) =>
            typeof value === 'string'
              ? typeof inner === 'string' && shownPattern(value).test(inner)
              : inner === value,
          );
          expect(
            matches,
            `${step.text}: "${key}" is ${JSON.stringify(value)} in the README, ${JSON.stringify(candidates)} in the run`,
          ).toBe(true);
        }
      }
    },
  );

  /** The lines `simulate` prints up to its ready line, with the README's example credentials standing for the generated ones. */
  function checkSimulate(stdout: string, shown: readonly string[], simulator: Simulator): void {
    const readyShown = shown.find((line) => line.startsWith('{"event":"ready"')) ?? '';
    const example = Object.fromEntries(shownFields(readyShown));
    const generated: [unknown, string | undefined][] = [
      [example.apiKey, simulator.ready.apiKey],
      [example.apiSecret, simulator.ready.apiSecret],
    ];
    const expected = shown.map((line) =>
      generated.reduce(
        (text, [shownValue, value]) =>
          typeof shownValue === 'string' && value ? text.replaceAll(shownValue, value) : text,
        line,
      ),
    );
    const actual = stdout.trimEnd().split('\n');
    if (!expected.includes('…')) {
      expect(actual).toHaveLength(expected.length);
      actual.forEach((line, i) => {
        expect(line).toMatch(shownPattern(expected[i] ?? ''));
      });
    }
    expect(linesMatch(actual, expected), `simulate prints\n${actual.join('\n')}`).toBe(true);
  }
});
