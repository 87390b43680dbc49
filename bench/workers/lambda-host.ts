/**
 * One Lambda function instance in a process of its own, so that its CPU and peak RSS are the
 * function's alone. Method `invoke({module, event, env})`: sets the environment the engine gave
 * the invocation, loads the real handler module on first use and runs it once; answers with
 * the handler's result and the CPU seconds and wall seconds it took. Like a Lambda instance it
 * runs one invocation at a time (the caller keeps a pool of hosts).
 */
import { type LambdaHandler, loadHandlers } from '../../local/lambda';
import { serve } from '../lib/ipc';
import { cpuDelta, cpuSeconds, peakRssBytes } from '../lib/process-stats';

interface InvokeRequest {
  /** Handler module, relative to the repository root. */
  readonly module: string;
  readonly event: unknown;
  readonly context: Record<string, unknown>;
  readonly env: Readonly<Record<string, string>>;
}

export interface InvokeReply {
  readonly result: unknown;
  readonly cpuSeconds: number;
  readonly seconds: number;
  /** This process's peak RSS since it started (VmHWM). */
  readonly peakRssBytes: number;
}

let handler: LambdaHandler | undefined;

serve({
  async invoke(request: InvokeRequest): Promise<InvokeReply> {
    for (const [key, value] of Object.entries(request.env)) process.env[key] = value;
    handler ??= (await loadHandlers({ one: request.module })).one;
    if (!handler) throw new Error(`${request.module} has no handler`);
    const deadline = Date.now() + Number(request.context.remainingMs ?? 900_000);
    const context = {
      ...request.context,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    const cpu = cpuSeconds();
    const started = performance.now();
    const result = await handler(request.event, context);
    return {
      result,
      cpuSeconds: cpuDelta(cpu, cpuSeconds()),
      seconds: (performance.now() - started) / 1000,
      peakRssBytes: peakRssBytes() ?? 0,
    };
  },
});
