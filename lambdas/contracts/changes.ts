import * as z from 'zod';

/*
 * The change history of an export (`changes` in the execution input): after each successful run,
 * one row per href added, removed or changed since the previous successful run of the same
 * export, naming the changed top-level fields, with the values before and after of the fields
 * listed in `fields`.
 *
 *   "changes": true                                      names of the changed fields only
 *   "changes": {"fields": ["managed", "labels"]}         and these fields' values before and after
 */

const MAX_CHANGE_FIELDS = 32;

const fieldName = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, 'must be a top-level field name such as "managed"');

export const changesInputSchema = z.union([
  z.boolean(),
  z
    .object({
      /** Top-level fields whose values before and after each change are written. @default none */
      fields: z
        .array(fieldName)
        .max(MAX_CHANGE_FIELDS)
        .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a field' }),
    })
    .strict(),
]);

/** The resolved change history setting, as it travels in the workflow state. */
export const changesRequestSchema = z.object({ fields: z.array(fieldName).max(MAX_CHANGE_FIELDS) });
export type ChangesRequest = z.output<typeof changesRequestSchema>;
