import { ExportConfigError } from '../../contracts/errors';
import type { TrafficRequest } from '../../contracts/traffic';
import { labelKeyValue } from '../../contracts/traffic-filters';
import type { LabelLookup } from '../../pce/labels';

/*
 * Labels a traffic query names by `key=value`, resolved to their hrefs once per run (each
 * distinct label is looked up once) before any query is sent; the windows then carry the hrefs.
 */

/** Whether the request names a label by key and value. */
export function namesLabels(request: TrafficRequest): boolean {
  return [request.sources, request.destinations].some((filter) =>
    [...filter.include.flat(), ...filter.exclude].some((actor) => labelKeyValue(actor) !== undefined),
  );
}

/** The request with every `key=value` label replaced by its href; a label the PCE lacks is an ExportConfigError. */
export async function resolveLabels(
  request: TrafficRequest,
  lookup: LabelLookup,
  root = 'input.traffic',
): Promise<TrafficRequest> {
  const cache = new Map<string, Promise<string | undefined>>();
  const resolve = async (actor: string, field: string): Promise<string> => {
    const label = labelKeyValue(actor);
    if (label === undefined) return actor;
    let href = cache.get(actor);
    if (href === undefined) {
      href = lookup.find(label.key, label.value);
      cache.set(actor, href);
    }
    const found = await href;
    if (found === undefined) {
      throw new ExportConfigError(
        `Invalid input: ${field} names the label ${JSON.stringify(actor)}, which the PCE does not have (no label with key ${JSON.stringify(label.key)} and value ${JSON.stringify(label.value)})`,
      );
    }
    return found;
  };
  const side = async (filter: TrafficRequest['sources'], name: 'sources' | 'destinations') => ({
    include: await Promise.all(
      filter.include.map((group, i) =>
        Promise.all(
          group.map((actor, j) =>
            resolve(actor, `${root}.${name}.include[${i}]${group.length > 1 ? `[${j}]` : ''}`),
          ),
        ),
      ),
    ),
    exclude: await Promise.all(
      filter.exclude.map((actor, i) => resolve(actor, `${root}.${name}.exclude[${i}]`)),
    ),
  });
  return {
    ...request,
    sources: await side(request.sources, 'sources'),
    destinations: await side(request.destinations, 'destinations'),
  };
}
