/** `npm run demo` against the running stack: each saga path ends as it should, with a link and a command. */
import { expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo.js';
import { stack } from '../support/client.js';

it('shows every saga path: success, decline, out of stock, retries, cancel, approval approved and rejected', async () => {
  const lines: string[] = [];
  const results = await runDemo(
    { gateway: stack().gateway, admin: stack().admin, temporalUi: 'http://ui.test', namespace: 'default' },
    (line) => lines.push(line),
  );
  expect(results.map((r) => [r.path, r.status, r.failureReason])).toEqual([
    ['success', 'COMPLETED', null],
    ['payment declined', 'CANCELLED', 'PAYMENT_DECLINED'],
    ['out of stock', 'CANCELLED', 'OUT_OF_STOCK'],
    ['flaky card, retried by Temporal', 'COMPLETED', null],
    ['slow card, retried after a timeout', 'COMPLETED', null],
    ['cancelled by the customer', 'CANCELLED', 'CANCELLED_BY_USER'],
    ['approval approved', 'COMPLETED', null],
    ['approval rejected', 'CANCELLED', 'APPROVAL_REJECTED'],
  ]);
  for (const r of results) {
    expect(r.webUi).toBe(`http://ui.test/namespaces/default/workflows/order-${r.orderId}`);
    expect(lines.join('\n')).toContain(`npm run temporal -- workflow show --workflow-id order-${r.orderId}`);
  }
}, 180_000);
