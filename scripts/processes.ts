/** Child processes of the local stack: spawned with prefixed output, stopped with SIGTERM then SIGKILL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** What stops it cleanly (SIGTERM unless said otherwise; PostgreSQL's fast shutdown is SIGINT). */
  stopSignal?: NodeJS.Signals;
}

export type Output = { kind: 'console' } | { kind: 'file'; path: string };

const width = 20;

export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; output: Output; stopSignal?: NodeJS.Signals },
): Managed {
  const stopSignal = opts.stopSignal;
  if (opts.output.kind === 'file') {
    // Straight into the log file: the child writes it itself, and this process reads none of its lines
    // (through pipes, the test and bench stacks' runner spent CPU on every line of every process).
    const fd = openSync(opts.output.path, 'a');
    const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', fd, fd] });
    closeSync(fd); // the child holds its own copy
    return { name, child, exited: exitOf(child), stopSignal };
  }
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `${name.padEnd(width)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      process.stdout.write(prefix + line + '\n');
    });
  }
  return { name, child, exited: exitOf(child), stopSignal };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? (signal ? null : 0));
    });
    child.on('error', () => resolve(-1));
  });
}
export async function stopProcess(p: Managed, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(p.stopSignal ?? 'SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

const SETPRIV = '/usr/bin/setpriv';

/**
 * The command line that runs `binary` so that it stops if this process dies without stopping it: setpriv
 * (util-linux) asks the kernel for a SIGTERM then. With `asUser`, when this process is root, it also runs
 * as that user (PostgreSQL refuses to run as root).
 */
export function stopsWithUs(binary: string, args: string[], asUser?: string): [string, string[]] {
  if (!existsSync(SETPRIV)) return [binary, args];
  const user =
    asUser && process.getuid?.() === 0 ? [`--reuid=${asUser}`, `--regid=${asUser}`, '--init-groups'] : [];
  return [SETPRIV, [...user, '--pdeathsig', 'TERM', '--', binary, ...args]];
}

/**
 * Ports handed out by this process: a port is free until its server binds it, and a second call must not
 * hand the same one out meanwhile.
 */
const handedOut = new Set<number>();
/** 20000 … 31999: below the ephemeral ports, and within a PostgreSQL smallint (Temporal's membership ports). */
const PORTS_FROM = 20_000;
const PORTS_COUNT = 12_000;

/** Whether a server could listen on 127.0.0.1:`port` now (nothing bound to it there or on every address). */
async function canListen(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port free for a server of ours, below Linux's ephemeral range (32768 and up): the kernel gives an
 * outgoing connection a local port from that range, and one could take a port chosen there (as listening on
 * port 0 chooses) between this check and the server's bind. Never the same port twice in one process.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PORTS_FROM + Math.floor(Math.random() * PORTS_COUNT);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canListen(port)) return port;
  }
}

export async function portOpen(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000);
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/**
 * A base port such that base+1 … base+count are free: for the workers' metrics servers, which bind
 * WORKER_METRICS_PORT_BASE + n. Chosen below Linux's ephemeral range (32768 and up), where no outgoing
 * connection's local port can take one between this check and the server's bind.
 */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = PORTS_FROM + Math.floor(Math.random() * (PORTS_COUNT - count));
    const ports = Array.from({ length: count }, (_, i) => base + 1 + i);
    if (ports.some((port) => handedOut.has(port))) continue;
    for (const port of ports) handedOut.add(port);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
}

/** Polls `check` until it resolves true, or fails naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  died?: Managed,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void died?.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what}: the process exited (see its log above)`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} was not ready within ${Math.round(timeoutMs / 1000)} s`);
}

/** A process that ran this long before it died was healthy: its next restart waits the shortest delay. */
const HEALTHY_RUN_MS = 30_000;

/**
 * A process that is started again when it dies after start-up (a killed worker comes back, as under
 * Compose's `restart` or a Kubernetes Deployment). Its pid is kept in `pidFile`, current across restarts.
 * Restarts back off (500 ms more each time, at most 10 s) while it keeps dying, and the backoff resets
 * once it has run for HEALTHY_RUN_MS.
 */
export class Supervised {
  private restarts = 0;
  /** The delay before the latest restart (for tests and logs). */
  lastDelayMs = 0;
  private stopped = false;
  private restarting = false;
  current: Managed;

  constructor(
    readonly name: string,
    private readonly start: () => Managed,
    private readonly say: (msg: string) => void,
    private readonly pidFile?: string,
    private readonly healthyRunMs = HEALTHY_RUN_MS,
  ) {
    this.current = this.launch();
  }

  private launch(): Managed {
    const p = this.start();
    const startedAt = Date.now();
    if (this.pidFile && p.child.pid) writeFileSync(this.pidFile, String(p.child.pid));
    void p.exited.then((code) => {
      if (this.stopped || !this.restarting) return;
      if (Date.now() - startedAt >= this.healthyRunMs) this.restarts = 0;
      this.restarts++;
      const delay = Math.min(500 * this.restarts, 10_000);
      this.lastDelayMs = delay;
      this.say(`${this.name} exited (code ${code}); starting it again in ${delay} ms`);
      setTimeout(() => {
        if (!this.stopped) this.current = this.launch();
      }, delay);
    });
    return p;
  }

  /** From now on an exit means "start it again" (before, start-up failures should fail fast). */
  keepRunning(): void {
    this.restarting = true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await stopProcess(this.current);
  }
}
