import { type Fields, list, map, string, struct } from '../formats/schema';

/*
 * What the change history writes: one row per href added, removed or changed between two
 * successful runs of an export, and the pointer to an export's current run. Both are ndjson (one
 * object per line); the Glue tables (lib/glue-views.ts) are built from these columns.
 */

/** One change: `changed_fields` names the top-level fields that differ; `values` holds the watched fields. */
export const CHANGE_COLUMNS: Fields = {
  href: string,
  change: string,
  changed_fields: list(string),
  /** Watched field → its value before and after, as JSON text (null where the object is absent). */
  values: map(struct({ before: string, after: string })),
  previous_run: string,
  current_run: string,
  previous_key: string,
  current_key: string,
};

type ChangeKind = 'added' | 'removed' | 'changed';

export interface ChangeRow {
  readonly href: string;
  readonly change: ChangeKind;
  readonly changed_fields: readonly string[];
  readonly values: Readonly<Record<string, { before: string | null; after: string | null }>>;
  readonly previous_run: string;
  readonly current_run: string;
  readonly previous_key: string;
  readonly current_key: string;
}

/** The one-line pointer at `{prefix}{export}/_current/run.json`, read by the "current" view. */
export const CURRENT_RUN_COLUMNS: Fields = {
  uri: string,
  key: string,
  dt: string,
  execution_name: string,
  completed_at: string,
};
