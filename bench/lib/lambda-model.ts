/*
 * The Fetch function on Lambda, from the copy's measured CPU seconds per GiB: Lambda gives a
 * function CPU in proportion to its memory (1,769 MB is one vCPU), and the copy runs on one
 * thread apart from zlib's work in the thread pool, so more than one vCPU speeds up at most that
 * part. Price: arm64, us-east-1, $0.0000133334 per GB-second (the first 7.5 billion GB-seconds a
 * month), requests left out.
 */

const ONE_VCPU_MB = 1769;
const USD_PER_GB_SECOND = 0.0000133334;
const LIMIT_SECONDS = 15 * 60;

export interface LambdaModelRow {
  readonly memoryMb: number;
  readonly vcpus: number;
  readonly mibPerSecond: number;
  readonly usdPerGib: number;
  /** The largest datafile that streams within the 15-minute limit, in GiB. */
  readonly gibIn15Minutes: number;
}

/**
 * `cpuSecondsPerGib`: the copy process's CPU per GiB of datafile; `offThreadSecondsPerGib`: the
 * part of it that runs outside the main thread (gzip), which a second vCPU can run alongside.
 */
export function lambdaModel(
  cpuSecondsPerGib: number,
  offThreadSecondsPerGib: number,
  memorySizes: readonly number[] = [1024, ONE_VCPU_MB, 3008],
): LambdaModelRow[] {
  return memorySizes.map((memoryMb) => {
    const vcpus = memoryMb / ONE_VCPU_MB;
    const mainThread = cpuSecondsPerGib - offThreadSecondsPerGib;
    // Seconds per GiB: all of the CPU shared out over the vCPUs, but never less than the main thread's.
    const secondsPerGib = Math.max(cpuSecondsPerGib / vcpus, mainThread / Math.min(vcpus, 1));
    return {
      memoryMb,
      vcpus,
      mibPerSecond: 1024 / secondsPerGib,
      usdPerGib: secondsPerGib * (memoryMb / 1024) * USD_PER_GB_SECOND,
      gibIn15Minutes: LIMIT_SECONDS / secondsPerGib,
    };
  });
}
