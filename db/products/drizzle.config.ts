import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/products/schema.ts',
  out: './db/products/migrations',
});
