import { getJsonArray } from './json-list';
import type { Transport } from './transport';

/*
 * Labels by key and value: `GET /orgs/{org}/labels?key=K&value=V`. The PCE matches `value` as
 * a part of the label's value, so the answer is narrowed to the label whose value is exactly V.
 */

export interface LabelLookup {
  /** The href of the label `key=value`, or undefined when the PCE has no such label. */
  find(key: string, value: string): Promise<string | undefined>;
}

export function createLabelLookup(transport: Transport): LabelLookup {
  const { base } = transport;
  return {
    find(key, value) {
      return transport.guarded(async () => {
        const query = new URLSearchParams({ key, value, max_results: '500' });
        const labels = await getJsonArray(transport, `/orgs/${base.orgId}/labels?${query}`, 'labels');
        for (const label of labels) {
          const entry = label as { href?: unknown; key?: unknown; value?: unknown } | null;
          if (entry?.key !== key || entry.value !== value || typeof entry.href !== 'string') continue;
          return transport.href(entry.href, 'labels', `the href of the label ${key}=${value}`);
        }
        return undefined;
      });
    },
  };
}
