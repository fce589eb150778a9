import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/payments/schema.ts',
  out: './db/payments/migrations',
});
