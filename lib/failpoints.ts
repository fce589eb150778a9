/**
 * Named points where a test can make a process die exactly there (ORDERSAGA_FAILPOINT), to prove that the
 * design survives a crash at that point. Unset in every real deployment: then this is a comparison and
 * nothing else.
 */
import type { Config } from './config.js';

export const FAILPOINTS = ['after-order-row'] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

/** Kills this process at once (SIGKILL: no cleanup, as a crash or an OOM kill would) if `name` is armed. */
export function failpoint(name: Failpoint, config: Pick<Config, 'ORDERSAGA_FAILPOINT'>): void {
  if (config.ORDERSAGA_FAILPOINT === name) process.kill(process.pid, 'SIGKILL');
}
