import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './db/users/schema.ts',
  out: './db/users/migrations',
});
