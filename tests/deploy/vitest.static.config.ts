// Runs only the static deployment checks, without the stack the main vitest.config.ts starts for integration.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['tests/deploy/**/*.test.ts'],
  },
});
