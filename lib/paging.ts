/** `?page=&limit=` (CONTRACT section 3) turned into one page of rows and the total, for every list endpoint. */
export interface PageRequest {
  page: number;
  limit: number;
}

export interface Page<T> {
  data: T[];
  meta: { page: number; limit: number; total: number };
}

/** Runs the page's query (`offset`, `limit`) and the count together. */
export async function paginate<T>(
  { page, limit }: PageRequest,
  rows: (window: { offset: number; limit: number }) => Promise<T[]>,
  count: () => Promise<number>,
): Promise<Page<T>> {
  const [data, total] = await Promise.all([rows({ offset: (page - 1) * limit, limit }), count()]);
  return { data, meta: { page, limit, total } };
}
