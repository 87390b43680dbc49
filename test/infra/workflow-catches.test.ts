import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../cli/io';
import { main } from '../../cli/main';
import { MAX_STANDARD_EXECUTION_SECONDS, MAX_WAIT_SECONDS_LIMIT } from '../../lambdas/contracts/limits';

/*
 * The check the printed definition must pass: every Task and Map state, in Map iterations and
 * Parallel branches too, is covered by a Catch of States.ALL, and the execution has a time limit.
 */

interface State {
  readonly Type: string;
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
  readonly [field: string]: unknown;
}

interface Definition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, State>>;
  readonly TimeoutSeconds?: number;
}

/** Every state by name, nested definitions (Map item processors, Parallel branches) included. */
function everyState(definition: Definition): [string, State][] {
  return Object.entries(definition.States).flatMap(([name, state]): [string, State][] => {
    const nested = [
      state.ItemProcessor,
      state.Iterator,
      ...((state.Branches as Definition[] | undefined) ?? []),
    ].filter((inner): inner is Definition => inner !== undefined);
    return [[name, state], ...nested.flatMap(everyState)];
  });
}

async function printedDefinition(): Promise<Definition> {
  const out: string[] = [];
  const io: CliIo = { stdout: (text) => out.push(text), stderr: () => {} };
  expect(await main(['asl'], io)).toBe(0);
  return JSON.parse(out.join('\n')) as Definition;
}

describe('the definition pce-export asl prints', async () => {
  const definition = await printedDefinition();
  const states = everyState(definition);
  const guarded = states.filter(([, state]) => state.Type === 'Task' || state.Type === 'Map');

  it('reaches into Map iterations', () => {
    const names = states.map(([name]) => name);

    expect(names).toContain('ExportSnapshot');
    expect(names).toContain('SnapshotPoll');
    expect(guarded.length).toBeGreaterThan(8);
  });

  it('covers every Task and Map state with a Catch of States.ALL', () => {
    const uncovered = guarded
      .filter(([, state]) => !(state.Catch ?? []).some((rule) => rule.ErrorEquals.includes('States.ALL')))
      .map(([name]) => name);

    expect(uncovered).toEqual([]);
  });

  it('sends every catch to a state of its own definition', () => {
    const scopes = [definition, ...states.flatMap(([, s]) => [s.ItemProcessor, s.Iterator])].filter(
      (scope): scope is Definition => scope !== undefined,
    );
    for (const scope of scopes) {
      for (const state of Object.values(scope.States)) {
        for (const rule of state.Catch ?? []) expect(Object.keys(scope.States)).toContain(rule.Next);
      }
    }
  });

  it('gives the execution a time limit: longer than the longest job wait, within a Standard execution year', () => {
    expect(Number.isInteger(definition.TimeoutSeconds)).toBe(true);
    expect(definition.TimeoutSeconds).toBeGreaterThan(MAX_WAIT_SECONDS_LIMIT);
    expect(definition.TimeoutSeconds).toBeLessThanOrEqual(MAX_STANDARD_EXECUTION_SECONDS);
  });
});
