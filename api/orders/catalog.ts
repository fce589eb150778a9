/** Prices come from the catalog, never from the caller: one batch lookup at the product service per order. */
import { AppError } from '../../lib/errors.js';
import { callService } from '../../lib/http/client.js';

export interface CatalogPrice {
  id: string;
  priceCents: number;
  currency: string;
}

export async function fetchPrices(productServiceUrl: string, productIds: string[], requestId: string) {
  const unique = [...new Set(productIds)];
  const query = new URLSearchParams({ ids: unique.join(','), limit: String(Math.max(unique.length, 1)) });
  const res = await callService(productServiceUrl, `/api/v1/products?${query.toString()}`, { requestId });
  if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `the product service answered ${res.status}`);
  const found = new Map((res.body as { data: CatalogPrice[] }).data.map((p) => [p.id, p]));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length > 0) {
    throw new AppError('PRODUCT_NOT_FOUND', `unknown product: ${missing.join(', ')}`, {
      productIds: missing,
    });
  }
  return found;
}
