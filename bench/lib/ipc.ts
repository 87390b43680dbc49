import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/*
 * Child processes for the benchmark. Every measurement runs in a process of its own (so its peak
 * RSS is its own), and so do the simulator and the S3 server it talks to. Parent and child talk
 * over Node's IPC channel: the parent calls a named method, the child answers once.
 */

type Handlers = Record<string, (params: never) => Promise<unknown>>;

interface Call {
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

interface Reply {
  readonly id: number;
  readonly result?: unknown;
  readonly error?: { readonly name: string; readonly message: string; readonly stack?: string };
}

/**
 * The child's side: answer the parent's calls with `handlers`. `exit` (or the parent going away)
 * runs `onExit` and ends the process.
 */
export function serve(handlers: Handlers, onExit: () => Promise<void> = async () => {}): void {
  if (!process.send) throw new Error('bench child started without an IPC channel');
  const send = (reply: Reply) => {
    if (process.connected) process.send?.(reply);
  };
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    onExit()
      .catch((error: unknown) => console.error('bench child cleanup failed:', error))
      .finally(() => process.exit(0));
  };
  process.on('disconnect', exit);
  process.on('message', (message: Call) => {
    if (message.method === 'exit') {
      exit();
      return;
    }
    const handler = handlers[message.method] as ((params: unknown) => Promise<unknown>) | undefined;
    if (!handler) {
      send({ id: message.id, error: { name: 'Error', message: `no method ${message.method}` } });
      return;
    }
    handler(message.params).then(
      (result) => send({ id: message.id, result }),
      (error: unknown) => {
        const e = error instanceof Error ? error : new Error(String(error));
        send({ id: message.id, error: { name: e.name, message: e.message, stack: e.stack } });
      },
    );
  });
  send({ id: 0, result: 'ready' });
}

export interface Child {
  readonly pid: number;
  call<T>(method: string, params?: unknown): Promise<T>;
  /** Asks the child to exit and waits for it; kills it after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Extra node flags, e.g. `--max-old-space-size=…`. */
  readonly execArgv?: readonly string[];
}

/** Starts `script` (a .ts file beside this module's package, as a URL) with tsx and waits for it to be ready. */
export async function spawnChild(script: URL, options: SpawnOptions = {}): Promise<Child> {
  const child: ChildProcess = fork(fileURLToPath(script), [], {
    execArgv: ['--import', 'tsx', ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited: Error | undefined;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = new Error(`bench child ${script.pathname} exited (code ${code}, signal ${signal})`);
      for (const { reject } of pending.values()) reject(exited);
      pending.clear();
      resolve();
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  child.on('message', (message: Reply) => {
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) {
      const error = new Error(message.error.message);
      error.name = message.error.name;
      if (message.error.stack) error.stack = message.error.stack;
      waiter.reject(error);
    } else waiter.resolve(message.result);
  });
  await ready;
  const pid = child.pid ?? -1;
  return {
    pid,
    call<T>(method: string, params?: unknown): Promise<T> {
      if (exited) return Promise.reject(exited);
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ id, method, params } satisfies Call);
      });
    },
    async close(graceMs = 10_000) {
      if (exited) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        const id = nextId++;
        child.send({ id, method: 'exit', params: null } satisfies Call);
      } catch {
        child.kill('SIGKILL');
      }
      await exitedPromise;
      clearTimeout(timer);
    },
  };
}
