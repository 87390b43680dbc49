import type { AslDefinition } from '../../local/definition';

/**
 * The successful path through the state machine, read from its definition: the states entered
 * once per export and the states entered once per poll (the cycle the job-status Choice's Default
 * goes round). Transitions per export = fixed + perPoll × polls.
 */
export interface LoopModel {
  /** States of a successful export with exactly one poll, in order. */
  readonly happyPath: readonly string[];
  /** The poll loop, from the Choice's Default round to the Choice. */
  readonly loop: readonly string[];
  readonly fixed: number;
  readonly perPoll: number;
}

interface ChoiceRule {
  readonly Variable?: string;
  readonly StringEquals?: string;
  readonly Next?: string;
}

export function loopModel(definition: AslDefinition): LoopModel {
  const happyPath: string[] = [];
  let loopStart: string | undefined;
  let name: string | undefined = definition.StartAt;
  for (let steps = 0; name !== undefined; steps++) {
    if (steps > 100) throw new Error('no end found on the successful path');
    const state = definition.States[name];
    if (!state) throw new Error(`state ${name} is not defined`);
    happyPath.push(name);
    if (state.Type === 'Succeed' || state.End === true) break;
    if (state.Type === 'Choice') {
      const rules = (state.Choices ?? []) as readonly ChoiceRule[];
      const done = rules.find((r) => r.Variable === '$.job.status' && r.StringEquals === 'done');
      if (!done?.Next) throw new Error(`Choice ${name} has no branch for status done`);
      loopStart = state.Default as string | undefined;
      name = done.Next;
    } else {
      name = state.Next as string | undefined;
    }
  }
  const choiceIndex = happyPath.findIndex((s) => definition.States[s]?.Type === 'Choice');
  const startIndex = loopStart === undefined ? -1 : happyPath.indexOf(loopStart);
  if (choiceIndex < 0 || startIndex < 0 || startIndex > choiceIndex) {
    throw new Error('the successful path has no poll loop');
  }
  const loop = happyPath.slice(startIndex, choiceIndex + 1);
  return { happyPath, loop, fixed: happyPath.length - loop.length, perPoll: loop.length };
}
