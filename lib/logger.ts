import pino, { type DestinationStream, type Logger } from 'pino';
import { traceFields, tracing } from './tracing/index.js';

export type { Logger };

export interface LoggerOptions {
  /** Whether lines carry the active span's ids: by default, when tracing is on (lib/tracing). */
  traced?: boolean;
  /** Where lines go: stdout unless given (tests). */
  destination?: DestinationStream;
}

/**
 * pino JSON to stdout; `process` names the service or worker so interleaved logs stay readable. With
 * tracing on, every line written inside a span carries its `traceId` and `spanId` (beside `requestId`);
 * with tracing off the mixin is not installed at all.
 */
export function createLogger(processName: string, level: string, options: LoggerOptions = {}): Logger {
  const { traced = tracing() !== undefined, destination } = options;
  return pino(
    {
      level,
      base: { process: processName },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(traced ? { mixin: () => traceFields() } : {}),
    },
    destination,
  );
}
