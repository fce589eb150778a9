/** The five services; each owns its data, its API and its worker. */
export const SERVICES = ['users', 'products', 'orders', 'payments', 'notifications'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** What crosses into every activity: the X-Request-ID of the REST call that started the work. */
export interface Traced {
  requestId: string;
}
