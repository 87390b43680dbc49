/** The entry module of the command line's bundle under `root` (the repository by default), built when stale. */
export function cliBundle(root?: string): Promise<string>;
/** The command line's modules, from the bundle (or through tsx with PCE_EXPORT_BUNDLE=off). */
export function loadCli(): Promise<{
  claimProcessIo(): { stdout(line: string): void; stderr(line: string): void };
  main(
    argv: readonly string[],
    io: { stdout(line: string): void; stderr(line: string): void },
  ): Promise<number>;
}>;
