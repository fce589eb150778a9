import type { Traced } from './services.js';

/** What the saga needs to know of a customer (activity `getCustomer`). */
export interface Customer {
  id: string;
  email: string;
  name: string;
}

export interface GetCustomerInput extends Traced {
  userId: string;
}
