import pino, { type Logger } from 'pino';

export type { Logger };

/** pino JSON to stdout; `process` names the service or worker so interleaved logs stay readable. */
export function createLogger(processName: string, level: string): Logger {
  return pino({
    level,
    base: { process: processName },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
