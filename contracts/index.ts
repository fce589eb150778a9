/**
 * The vocabulary every layer shares, and nothing else: no I/O, no configuration, safe to import from
 * workflow code. Workflows, activities, db and api import from here; this folder imports no project code.
 */
export * from './auth.js';
export * from './bench.js';
export * from './events.js';
export * from './inventory.js';
export * from './notifications.js';
export * from './order-saga.js';
export * from './orders.js';
export * from './payments.js';
export * from './services.js';
export * from './temporal.js';
export * from './users.js';
