/**
 * Imported first by main.ts: when the OTEL_* variables switch tracing on, the OpenTelemetry SDK and its
 * instrumentations start here, before any module they patch is loaded (main.ts loads each role's code
 * afterwards). When they do not, nothing is loaded and nothing is patched.
 */
import { processNameOf } from '../process-name.js';
import { tracingWanted } from './index.js';

// The one read of process.env outside lib/config.ts: the SDK's standard variables decide, before config.
if (tracingWanted(process.env)) {
  const { startTracing } = await import('./sdk.js');
  await startTracing(processNameOf(process.argv.slice(2)));
}
