import type { AslDefinition, LocalDefinition } from './stack';

/**
 * Definitions known to pass the local executor's validation (CreateStateMachine's checks, which
 * cost the executor about 0.3 s and 20 MiB of compiled schemas per definition on each start).
 */
const validated = new WeakSet<AslDefinition>();

export function isValidated(definition: AslDefinition): boolean {
  return validated.has(definition);
}

export function markValidated(definition: AslDefinition): void {
  validated.add(definition);
}

/** Marks every definition of `local` as validated: for a cache entry written only after they were. */
export function markAllValidated(local: LocalDefinition): LocalDefinition {
  markValidated(local.definition);
  for (const machine of Object.values(local.stateMachines)) markValidated(machine.definition);
  return local;
}
