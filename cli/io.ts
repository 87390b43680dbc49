/** Where a command writes: stdout carries the result and nothing else, stderr everything a person reads. */
export interface CliIo {
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

/**
 * The process's own streams, with stdout kept for the result. Whatever else in the process
 * writes to `process.stdout` — the handlers' Powertools logger (its Console holds
 * `process.stdout`), a library's `console.log` — is sent to stderr from here on, so a tool that
 * reads stdout gets the result alone. Call it once, from the executable; the deployed functions
 * never load this module, so their logging is unchanged.
 */
export function claimProcessIo(): CliIo {
  const { stdout, stderr } = process;
  const writeResult = stdout.write.bind(stdout);
  stdout.write = stderr.write.bind(stderr) as typeof stdout.write;
  return {
    stdout: (line) => writeResult(`${line}\n`),
    stderr: (line) => stderr.write(`${line}\n`),
  };
}
