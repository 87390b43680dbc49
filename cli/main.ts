import '../local/polyfills';
import { TOOL_VERSION } from '../lambdas/version';
import { EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors';
import { closestName } from './flags';
import type { CliIo } from './io';

const USAGE = `Usage: pce-export <command> [options]

Commands:
  demo       run the whole workflow locally against an embedded PCE simulator and S3
  run        run the workflow locally against a PCE (credentials from PCE_API_KEY / PCE_API_SECRET)
  simulate   serve the PCE simulator on its own
  asl        print the synthesized state machine definition (Amazon States Language)

Run 'pce-export <command> --help' for a command's options.

${EXIT_CODES_HELP}`;

const COMMANDS = ['demo', 'run', 'simulate', 'asl'] as const;

/** The `pce-export` command line. Returns the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Each command loads what it needs when it runs, so that `--help` loads no engine and `asl` no S3.
      case 'demo': {
        const { demoCommand } = await import('./demo');
        return await demoCommand(rest, io);
      }
      case 'run': {
        const { runCommand } = await import('./run');
        return await runCommand(rest, io);
      }
      case 'simulate': {
        const { runSimulate } = await import('../simulator/cli');
        return await runSimulate([...rest], io);
      }
      case 'asl': {
        if (rest.length > 0)
          throw new UsageError(`asl takes no options, not ${JSON.stringify(rest.join(' '))}`);
        // The cached definition when nothing that shapes it has changed; a synth otherwise.
        const { loadLocalDefinition } = await import('../local/definition-cache');
        io.stdout(JSON.stringify((await loadLocalDefinition()).definition, null, 2));
        return EXIT_OK;
      }
      case '--version':
      case '-v':
        io.stdout(TOOL_VERSION);
        return EXIT_OK;
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE);
        return EXIT_OK;
      case undefined:
        io.stderr(USAGE);
        throw new UsageError(`a command is required: ${COMMANDS.join(', ')}`);
      default:
        throw new UsageError(unknownCommand(command));
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const help = isCommand(command) ? `pce-export ${command} --help` : 'pce-export --help';
      io.stderr(`pce-export: ${error.message}\nRun '${help}' for the options.`);
      io.stdout(JSON.stringify({ error: 'UsageError', cause: error.message }));
      return EXIT_USAGE;
    }
    const err = error instanceof Error ? error : new Error(String(error));
    io.stderr(`pce-export: ${err.stack ?? err.message}`);
    io.stdout(JSON.stringify({ error: err.name, cause: err.message }));
    return EXIT_FAILED;
  }
}

function unknownCommand(command: string): string {
  const meant = closestName(command, command.startsWith('-') ? ['--version', '--help'] : COMMANDS);
  const commands = `(commands: ${COMMANDS.join(', ')})`;
  return `unknown command ${JSON.stringify(command)}${meant ? `: did you mean ${meant}? ${commands}` : ` ${commands}`}`;
}

function isCommand(command: string | undefined): command is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly (string | undefined)[]).includes(command);
}
