/**
 * The simulator's time. Jobs, events, fault windows and the rate limiter read it; wire-level
 * timing (slow bodies, delays) and HTTP-dates meant for the client's own clock do not.
 *
 * `system` follows the system clock; `manual` stands still from the moment the simulator
 * starts. Both can be moved ahead with `advance(ms)`, which runs whatever fell due (a refused
 * listener coming back, say) before it resolves, so a test can step through a 45-second outage
 * without waiting for it.
 */

/** How the simulator's clock moves. */
export type ClockMode = 'system' | 'manual';

export interface SimulatorClock {
  readonly mode: ClockMode;
  /** Simulated time, epoch milliseconds. */
  now(): number;
  /**
   * Moves time forward by `ms`; resolves once everything that fell due has run (fault windows
   * opened or closed, the listener stopped or back).
   */
  advance(ms: number): Promise<void>;
}

interface Timer {
  readonly at: number;
  readonly run: () => unknown;
  handle?: NodeJS.Timeout;
}

export class Clock implements SimulatorClock {
  private offset = 0;
  private readonly frozenAt: number;
  private timers: Timer[] = [];
  private closed = false;
  private chain: Promise<void> = Promise.resolve();

  constructor(readonly mode: ClockMode) {
    this.frozenAt = Date.now();
  }

  now(): number {
    return (this.mode === 'manual' ? this.frozenAt : Date.now()) + this.offset;
  }

  async advance(ms: number): Promise<void> {
    if (!(Number.isFinite(ms) && ms >= 0))
      throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
    this.offset += ms;
    await this.runDue();
    for (const timer of this.timers) this.arm(timer);
  }

  /** Runs `run` once the simulated time reaches `at` (at once if it already has); returns a cancel. */
  at(at: number, run: () => unknown): () => void {
    const timer: Timer = { at, run };
    this.timers.push(timer);
    this.timers.sort((a, b) => a.at - b.at);
    if (at <= this.now()) queueMicrotask(() => void this.runDue());
    else this.arm(timer);
    return () => this.cancel(timer);
  }

  /** Cancels every timer; nothing runs after this. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer.handle);
    this.timers = [];
  }

  private cancel(timer: Timer): void {
    clearTimeout(timer.handle);
    this.timers = this.timers.filter((t) => t !== timer);
  }

  /** A system clock wakes up by itself; a manual one only in `advance`. */
  private arm(timer: Timer): void {
    if (this.mode === 'manual' || this.closed) return;
    clearTimeout(timer.handle);
    // Not unref'd: while the listener is stopped, this timer is what keeps the process alive.
    timer.handle = setTimeout(() => void this.runDue(), Math.max(0, timer.at - this.now()));
  }

  /** Runs what fell due, one timer at a time (callers queue behind a run in progress). */
  private runDue(): Promise<void> {
    this.chain = this.chain.then(() => this.drain()).catch(() => {});
    return this.chain;
  }

  private async drain(): Promise<void> {
    while (!this.closed) {
      const next = this.timers[0];
      if (!next || next.at > this.now()) return;
      this.cancel(next);
      await next.run();
    }
  }
}
