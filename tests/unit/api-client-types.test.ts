/** The typed client's types are the OpenAPI document's: regenerate them (`npm run generate:client`) when it changes. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { generateClientTypes, SCHEMA_FILE } from '../../scripts/generate-client.js';

it('api/client/schema.ts is what npm run generate:client makes of the current OpenAPI document', async () => {
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  const generated = await generateClientTypes();
  // toBe, not a boolean: a failure shows the lines that differ.
  expect(committed, 'api/client/schema.ts is stale: run npm run generate:client').toBe(generated);
});
