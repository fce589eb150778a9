/**
 * `npm start`: the whole stack on this machine, data kept in .data/, stopped cleanly by Ctrl-C or SIGTERM.
 * It runs the compiled build, dist/, as the image does, building it first when the sources changed
 * (scripts/compiled.ts); `npm start -- --dev` runs the sources through tsx, each process restarting when a
 * file it loaded changes.
 * `npm start -- --tracing` also runs Jaeger as the trace store (built the first time: about 6 minutes) and
 * has every process export its spans to it.
 * `npm start -- --temporal server` runs the real Temporal server (built the first time: 5 to 13 minutes) on
 * the PostgreSQL the stack uses instead of the CLI's dev server; `--temporal cluster` runs its frontend,
 * history, matching and worker services as four processes. ORDERSAGA_TEMPORAL sets the same default.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_JAEGER_PORTS } from './jaeger.js';
import { ConfigError, loadConfig } from '../lib/config.js';
import { ensureBuild } from './compiled.js';
import { ROOT, startStack, type Stack, type Stoppable } from './stack.js';
import { parseTemporalEngine, standardServerPorts } from './temporal-server.js';
import { MissingComponentError, TEMPORAL_SERVER_VERSION } from './tools.js';

const say = (msg: string) => console.log(`ordersaga           | ${msg}`);

async function main() {
  const { values: flags } = parseArgs({
    options: {
      tracing: { type: 'boolean', default: false },
      temporal: { type: 'string' },
      dev: { type: 'boolean', default: false },
    },
  });
  // Compiled, as the image runs, unless --dev: the sources through tsx, reloaded when they change.
  if (flags.dev) {
    delete process.env.ORDERSAGA_COMPILED;
    process.env.ORDERSAGA_WATCH = '1';
  } else {
    const build = ensureBuild(ROOT, say);
    say(build === 'current' ? 'running dist/ (built from the sources as they are)' : 'built dist/');
    process.env.ORDERSAGA_COMPILED = '1';
  }
  const engine = flags.temporal
    ? parseTemporalEngine(flags.temporal, '--temporal')
    : parseTemporalEngine(process.env.ORDERSAGA_TEMPORAL, 'ORDERSAGA_TEMPORAL');
  if (flags.temporal && process.env.TEMPORAL_ADDRESS)
    throw new MissingComponentError(
      `--temporal ${flags.temporal} starts a Temporal server of our own, and TEMPORAL_ADDRESS=${process.env.TEMPORAL_ADDRESS} says to use that one: choose one`,
    );
  const startedAt = Date.now();
  const config = loadConfig();
  const temporalPort = Number(config.TEMPORAL_ADDRESS.split(':').pop());
  const uiPort = Number(new URL(config.TEMPORAL_UI_URL).port || 8233);
  const mongoPort = Number(new URL(config.MONGO_URL.replace(/^mongodb(\+srv)?:/, 'http:')).port || 27017);

  const started: Stoppable[] = [];
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping every process…');
    // Services and workers first, then the servers they use.
    const infra = (name: string) => name.startsWith('temporal') || name === 'ferretdb' || name === 'jaeger';
    await Promise.all(started.filter((p) => !infra(p.name)).map((p) => p.stop()));
    await Promise.all(started.filter((p) => infra(p.name)).map((p) => p.stop()));
    say('stopped');
    process.exit(code);
  };
  const startup = new AbortController();
  process.on('SIGINT', () => {
    startup.abort();
    void stop(0);
  });
  process.on('SIGTERM', () => {
    startup.abort();
    void stop(0);
  });
  // A crash of this script must not leave the stack running without its supervisor.
  const crash = (err: unknown) => {
    console.error(err);
    startup.abort();
    void stop(1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);

  let stack: Stack;
  try {
    stack = await startStack({
      dataDir: join(ROOT, '.data'),
      env: process.env,
      // An address or URL given explicitly means "use that server"; otherwise we run our own.
      temporal: process.env.TEMPORAL_ADDRESS
        ? { external: config.TEMPORAL_ADDRESS }
        : {
            port: temporalPort,
            uiPort,
            engine,
            // Temporal's own port layout around the frontend; databases ordersaga_temporal(_visibility).
            server: { databasePrefix: 'ordersaga', ports: standardServerPorts(temporalPort) },
          },
      mongo: process.env.MONGO_URL ? { external: config.MONGO_URL } : { port: mongoPort },
      // EVENTS_TRANSPORT=kafka with no KAFKA_BROKERS: our own broker on Kafka's usual port.
      ...(config.EVENTS_TRANSPORT === 'kafka' && !process.env.KAFKA_BROKERS ? { kafka: { port: 9092 } } : {}),
      ...(flags.tracing
        ? {
            tracing: {
              ports: {
                ...DEFAULT_JAEGER_PORTS,
                query: Number(process.env.JAEGER_UI_PORT ?? DEFAULT_JAEGER_PORTS.query),
              },
            },
          }
        : {}),
      output: 'console',
      say,
      started,
      signal: startup.signal,
    });
  } catch (err) {
    if (startup.signal.aborted) return; // Ctrl-C during start-up: stop() is already on it
    throw err;
  }
  if (stopping) return;

  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  const { urls } = stack;
  console.log(`
  OrderSaga is up (${seconds} s), ${flags.dev ? 'from the sources, reloading on change (--dev)' : 'compiled (dist/; npm start -- --dev reloads the sources)'}.

    Gateway          ${urls.gateway}
    API docs         ${urls.docs}   (OpenAPI: ${urls.gateway}/openapi.json)
    Temporal         ${temporalLine(engine, stack)}
    Temporal Web UI  ${urls.temporalUi ?? `(external Temporal at ${urls.temporalAddress})`}
    Admin            ${stack.config.ADMIN_EMAIL} / (ADMIN_PASSWORD)
    Temporal CLI     npm run temporal -- workflow list --query "OrderStatus='COMPENSATION_FAILED'"
    Traces           ${urls.jaeger ? `Jaeger query API ${urls.jaeger}/api/services; an order's spans: npm run trace -- <orderId>` : 'off (npm start -- --tracing runs Jaeger and exports every span to it)'}
    Payloads         ${urls.codec ? `encrypted; codec endpoint ${urls.codec} (the Web UI and npm run temporal use it)` : 'in clear (set PAYLOAD_CODEC_KEYS to encrypt them)'}

  Find an order:  npm run temporal -- workflow list --query "OrderId='<id>'"   (runbook: README, "Operating orders")
  Ctrl-C stops everything.
`);
}

function temporalLine(engine: string, stack: Stack): string {
  const { temporalAddress } = stack.urls;
  if (process.env.TEMPORAL_ADDRESS) return `external, ${temporalAddress}`;
  if (engine === 'dev')
    return `dev server ${temporalAddress} (npm start -- --temporal server: the real server)`;
  const processes = stack.temporalProcesses.filter((n) => n !== 'temporal-ui');
  return `server ${TEMPORAL_SERVER_VERSION} ${temporalAddress} on PostgreSQL, ${processes.length === 1 ? 'one process' : `processes ${processes.join(', ')}`}`;
}

main().catch((err: unknown) => {
  if (err instanceof MissingComponentError || err instanceof ConfigError)
    console.error(`\nnpm start: ${err.message}\n`);
  else console.error(err);
  process.exit(1);
});
