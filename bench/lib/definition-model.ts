import type { AslDefinition, AslState } from '../../local/definition';

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

/**
 * Walks the definition from StartAt. At the Choice that tests `$.job.status` for `done` it takes
 * that branch and records its Default as the start of the poll loop; at any other Choice it takes
 * the branch the observed run took (`observed`: the states a real run entered), else the Default.
 */
export function loopModel(definition: AslDefinition, observed: readonly string[] = []): LoopModel {
  const happyPath: string[] = [];
  let loopStart: string | undefined;
  let statusChoice: string | undefined;
  let name: string | undefined = definition.StartAt;
  for (let steps = 0; name !== undefined; steps++) {
    if (steps > 100) throw new Error('no end found on the successful path');
    const state: AslState | undefined = definition.States[name];
    if (!state) throw new Error(`state ${name} is not defined`);
    happyPath.push(name);
    if (state.Type === 'Succeed' || state.End === true) break;
    let next: string | undefined;
    if (state.Type === 'Choice') {
      const rules = (state.Choices ?? []) as readonly ChoiceRule[];
      const done = rules.find((r) => r.Variable === '$.job.status' && r.StringEquals === 'done');
      if (done?.Next && statusChoice === undefined) {
        statusChoice = name;
        loopStart = state.Default as string | undefined;
        next = done.Next;
      } else {
        const at = observed.indexOf(name);
        next = at >= 0 && at + 1 < observed.length ? observed[at + 1] : (state.Default as string | undefined);
      }
    } else {
      next = state.Next as string | undefined;
    }
    name = next;
  }
  const choiceIndex = statusChoice === undefined ? -1 : happyPath.indexOf(statusChoice);
  const startIndex = loopStart === undefined ? -1 : happyPath.indexOf(loopStart);
  if (choiceIndex < 0 || startIndex < 0 || startIndex > choiceIndex) {
    throw new Error(`no poll loop on the successful path ${happyPath.join(' → ')}`);
  }
  const loop = happyPath.slice(startIndex, choiceIndex + 1);
  return { happyPath, loop, fixed: happyPath.length - loop.length, perPoll: loop.length };
}
