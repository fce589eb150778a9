/**
 * The custom search attributes of CONTRACT section 7, from their one source,
 * temporal-config/search-attributes.json: the dev server start passes them as flags, and this registers
 * them on any cluster (`node main.ts register-search-attributes`, the job Compose and Kubernetes run).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { temporalConnectionOptions, type TemporalConnectionOptions } from './temporal-connection.js';

export const SEARCH_ATTRIBUTE_TYPES = [
  'Text',
  'Keyword',
  'Int',
  'Double',
  'Bool',
  'Datetime',
  'KeywordList',
] as const;
export type SearchAttributeTypeName = (typeof SEARCH_ATTRIBUTE_TYPES)[number];

/** Name → type, as the JSON file declares them. */
export function searchAttributes(): Record<string, SearchAttributeTypeName> {
  const file = new URL('../temporal-config/search-attributes.json', import.meta.url);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { searchAttributes: Record<string, string> };
  for (const [name, type] of Object.entries(parsed.searchAttributes)) {
    if (!SEARCH_ATTRIBUTE_TYPES.includes(type as SearchAttributeTypeName))
      throw new Error(`search attribute ${name}: unknown type ${type}`);
  }
  return parsed.searchAttributes as Record<string, SearchAttributeTypeName>;
}

/** The enum value of each type in Temporal's API (temporal.api.enums.v1.IndexedValueType). */
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** Adds the missing ones; refuses one registered with another type (that needs an operator). */
export async function ensureSearchAttributes(
  target: string | TemporalConnectionOptions,
  namespace: string,
): Promise<string[]> {
  const options = typeof target === 'string' ? { address: target } : target;
  const connection = await Connection.connect({ ...options, connectTimeout: '5s' });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const existing = customAttributes ?? {};
    const wanted = Object.entries(searchAttributes());
    for (const [name, type] of wanted) {
      const has = existing[name];
      if (has !== undefined && Number(has) !== INDEXED_VALUE_TYPE[type])
        throw new Error(`search attribute ${name} is registered with another type than ${type}`);
    }
    const missing = wanted.filter(([name]) => existing[name] === undefined);
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]])),
      });
    }
    return missing.map(([name]) => name);
  } finally {
    await connection.close();
  }
}

/** The registration job: waits for the cluster (it may start alongside), then registers; bounded. */
export async function registerSearchAttributes(config: Config, logger: Logger, attempts = 60): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const added = await ensureSearchAttributes(
        temporalConnectionOptions(config),
        config.TEMPORAL_NAMESPACE,
      );
      logger.info({ added, namespace: config.TEMPORAL_NAMESPACE }, 'search attributes registered');
      return;
    } catch (err) {
      if (attempt >= attempts || /another type/.test((err as Error).message)) throw err;
      logger.warn({ attempt, err: (err as Error).message }, 'Temporal not ready for registration; retrying');
      await sleep(Math.min(1000 * attempt, 5000));
    }
  }
}
