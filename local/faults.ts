import type { LambdaServiceFault } from './aws-errors';

/** A value a request field must have: exact, a glob with `*`, or a regular expression. */
export type Pattern = string | RegExp;

export function matches(value: string, pattern: Pattern | undefined): boolean {
  if (pattern === undefined) return true;
  if (pattern instanceof RegExp) return pattern.test(value);
  if (!pattern.includes('*')) return value === pattern;
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(value);
}

interface Rule<R, F> {
  readonly match: (request: R) => boolean;
  readonly fault: F;
  /** Matching requests to let through before the first fault. */
  skip: number;
  /** Faults still to deliver. */
  remaining: number;
}

export interface FaultOptions {
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
  /** Matching requests that pass before the first failure. @default 0 */
  readonly after?: number;
}

/**
 * Faults a test arms for a stand-in service: each rule fails the next `times` requests that
 * match it (after letting `after` of them through); the first rule with faults left wins.
 */
export class FaultPlan<R, F> {
  private readonly rules: Rule<R, F>[] = [];
  /** Faults delivered so far, oldest first. */
  readonly delivered: { readonly request: R; readonly fault: F }[] = [];

  add(match: (request: R) => boolean, fault: F, options: FaultOptions = {}): void {
    this.rules.push({ match, fault, skip: options.after ?? 0, remaining: options.times ?? 1 });
  }

  /** The fault for this request, if one is armed; counts it as delivered. */
  take(request: R): F | undefined {
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !rule.match(request)) continue;
      if (rule.skip > 0) {
        rule.skip--;
        continue;
      }
      rule.remaining--;
      this.delivered.push({ request, fault: rule.fault });
      return rule.fault;
    }
    return undefined;
  }

  clear(): void {
    this.rules.length = 0;
    this.delivered.length = 0;
  }
}

/** One invocation of a function, as the Lambda service sees it. */
interface LambdaRequest {
  /** The function's logical id in the template. */
  readonly functionId: string;
  /** The handler module's name, e.g. `poll`. */
  readonly handler: string;
  /** The Task state that invokes it. */
  readonly state: string;
}

interface LambdaFault {
  readonly error: LambdaServiceFault;
  /**
   * Whether the function ran before the service failed: `before` (never invoked, as for a
   * throttle) or `after` (the function ran and its result was lost, as a client timeout can).
   * @default 'before'
   */
  readonly when?: 'before' | 'after';
}

interface LambdaFaultSelector {
  readonly handler?: Pattern;
  readonly state?: Pattern;
}

export class LambdaFaults extends FaultPlan<LambdaRequest, LambdaFault> {
  /** Fails invocations of the selected functions with a Lambda service error. */
  inject(selector: LambdaFaultSelector, fault: LambdaFault, options?: FaultOptions): void {
    this.add(
      (request) => matches(request.handler, selector.handler) && matches(request.state, selector.state),
      fault,
      options,
    );
  }
}
