/**
 * The most events inside any window of `windowMs` (a window holds the times t with
 * start ≤ t < start + windowMs), for times in ascending order.
 */
export function mostInAnyWindow(times: readonly number[], windowMs = 60_000): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < times.length; to++) {
    const end = times[to] ?? 0;
    while ((times[from] ?? end) <= end - windowMs) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}
