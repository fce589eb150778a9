/** User activities (task queue `users`): what the saga needs to know of a customer, from the users database. */
import { eq } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import * as schema from '../db/users/schema.js';
import type { Customer, GetCustomerInput } from '../contracts/index.js';
import type { Logger } from '../lib/logger.js';
import { activityLog } from './context.js';

export function createUserActivities({ db, logger }: { db: NodePgDatabase<typeof schema>; logger: Logger }) {
  return {
    /** The customer's contact details, or null when the account has been deleted since. */
    async getCustomer(input: GetCustomerInput): Promise<Customer | null> {
      const [row] = await db
        .select({ id: schema.users.id, email: schema.users.email, name: schema.users.name })
        .from(schema.users)
        .where(eq(schema.users.id, input.userId));
      if (!row) activityLog(logger, input).warn({ userId: input.userId }, 'customer not found');
      return row ?? null;
    },
  };
}

export type UserActivities = ReturnType<typeof createUserActivities>;
