/** Prices come from the catalog, never from the caller: the order service asks the product service. */
import { AppError } from '../../lib/errors.js';
import { callService } from '../../lib/http/client.js';

export interface CatalogPrice {
  id: string;
  priceCents: number;
  currency: string;
}

export async function fetchPrices(productServiceUrl: string, productIds: string[], requestId: string) {
  const unique = [...new Set(productIds)];
  const found = await Promise.all(
    unique.map(async (id) => {
      const res = await callService(productServiceUrl, `/api/v1/products/${encodeURIComponent(id)}`, {
        requestId,
      });
      if (res.status === 404) return null;
      if (!res.ok) throw new AppError('SERVICE_UNAVAILABLE', `the product service answered ${res.status}`);
      const body = (await res.json()) as { data: CatalogPrice };
      return body.data;
    }),
  );
  const missing = unique.filter((_, i) => found[i] === null);
  if (missing.length > 0) {
    throw new AppError('PRODUCT_NOT_FOUND', `unknown product: ${missing.join(', ')}`, {
      productIds: missing,
    });
  }
  return new Map(found.map((p) => [p!.id, p!]));
}
