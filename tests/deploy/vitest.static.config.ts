// Runs only the deployment checks (`npx vitest run -c tests/deploy/vitest.static.config.ts`), with the tools
// they need and without the stack the main vitest.config.ts starts for integration.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tests/deploy/**/*.test.ts'],
    globalSetup: ['tests/setup/deploy-tools.ts'],
    testTimeout: 60_000,
  },
});
