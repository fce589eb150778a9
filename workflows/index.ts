/** The workflows the `orders` worker hosts. Bundled by the Temporal SDK: deterministic code only. */
export { orderSaga } from './orders/order-saga.js';
