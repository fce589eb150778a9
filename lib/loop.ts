/** A background loop a process runs until stopped: one pass, then a pause, with a failed pass logged. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.js';
import type { Task } from './runner.js';

/**
 * Runs `pass` again and again, pausing `intervalMs` after each unless it says more work is waiting. A pass
 * that throws (a database or Redis down) is logged with `failed` and the loop goes on.
 */
export function startLoop(opts: {
  intervalMs: number;
  pass: () => Promise<boolean | void>;
  logger: Logger;
  failed: string;
}): Task {
  const controller = new AbortController();
  const done = (async () => {
    while (!controller.signal.aborted) {
      let more = false;
      try {
        more = (await opts.pass()) === true;
      } catch (err) {
        opts.logger.warn({ err: (err as Error).message }, opts.failed);
      }
      if (!more) await sleep(opts.intervalMs, undefined, { signal: controller.signal }).catch(() => {});
    }
  })();
  return {
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}
