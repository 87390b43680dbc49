/**
 * A mistake the user can fix in the command line or its input (a flag, the environment, a file
 * a flag names): exit code 2. The message is one sentence that names the flag or the
 * `--input-json` field and says what to change.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
/** The export ran and failed; the last line on stdout names the error. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The exit code rule, as every command's help states it. */
export const EXIT_CODES_HELP = `Exit codes:
  0  the export succeeded; the last line on stdout is its output
  1  the export ran and failed; the last line on stdout is {"error": NAME, "cause": …}, NAME one
     of the workflow's errors (PceAuthError, PceJobFailed, …) for a failure at the PCE
  2  a mistake in the command line or its input (a flag, PCE_API_KEY / PCE_API_SECRET, a file a
     flag names): nothing ran; the message names what to change and the last line on stdout is
     {"error": "UsageError", "cause": …}`;
