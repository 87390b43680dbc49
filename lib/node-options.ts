/*
 * The Node.js options every function runs with. AWS Lambda's Node.js runtime sizes V8's heap from
 * the function's memory unless NODE_OPTIONS names a heap size: a young generation's semi space of
 * memory / 20 MiB (88 MiB at Fetch's 1,769 MB) and an old space of 9/10 of memory. Values that
 * live across scavenges, such as a Parquet row group's columns, grow the young generation towards
 * three such semi spaces, so Fetch's peak RSS grew with the datafile (347 MiB at 64 MiB, 487 MiB
 * at 2 GiB, BENCHMARKS.md). With V8's own semi space for heaps under 2 GiB (8 MiB) it stays flat
 * (161 and 229 MiB) for the same CPU. Both sizes are named: with only one, the runtime sets neither.
 */

/** The young generation's semi space, in MiB. */
const SEMI_SPACE_MIB = 8;

/** NODE_OPTIONS for a function of `memoryMb`: source maps, and the heap sized as described above. */
export function functionNodeOptions(memoryMb: number): string {
  const oldSpaceMib = Math.floor((memoryMb * 9) / 10);
  return `--enable-source-maps --max-semi-space-size=${SEMI_SPACE_MIB} --max-old-space-size=${oldSpaceMib}`;
}
