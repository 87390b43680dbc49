import '../local/polyfills';
import { TOOL_VERSION } from '../lambdas/version';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors';
import { type CliIo, processIo } from './io';

export const USAGE = `Usage: pce-export <command> [options]

Commands:
  demo       run the whole workflow locally against an embedded PCE simulator and S3
  run        run the workflow locally against a PCE (credentials from PCE_API_KEY / PCE_API_SECRET)
  simulate   serve the PCE simulator on its own
  asl        print the synthesized state machine definition (Amazon States Language)

Run 'pce-export <command> --help' for a command's options.`;

/** The `pce-export` command line. Returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
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
        if (rest.length > 0) throw new UsageError(`asl takes no options\n\n${USAGE}`);
        // The cached definition when nothing that shapes it has changed; a synth otherwise.
        const { loadLocalDefinition } = await import('../local/definition-cache');
        io.stdout(JSON.stringify((await loadLocalDefinition()).definition, null, 2));
        return EXIT_OK;
      }
      case '--version':
      case '-v':
        io.stdout(TOOL_VERSION);
        return EXIT_OK;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout(USAGE);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`pce-export: ${error.message}`);
      io.stdout(JSON.stringify({ error: 'UsageError', cause: error.message.split('\n')[0] }));
      return EXIT_USAGE;
    }
    const err = error instanceof Error ? error : new Error(String(error));
    io.stderr(`pce-export: ${err.stack ?? err.message}`);
    io.stdout(JSON.stringify({ error: err.name, cause: err.message }));
    return EXIT_FAILED;
  }
}
