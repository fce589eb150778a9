/** Child processes of the local stack: spawned with prefixed output, stopped with SIGTERM then SIGKILL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';

export interface Managed {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export type Output = { kind: 'console' } | { kind: 'file'; path: string };

const width = 20;

export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; output: Output },
): Managed {
  const child = spawn(cmd, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let sink: WriteStream | undefined;
  if (opts.output.kind === 'file') sink = createWriteStream(opts.output.path, { flags: 'a' });
  const prefix = `${name.padEnd(width)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => {
      if (sink) sink.write(`${line}\n`);
      else process.stdout.write(prefix + line + '\n');
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      sink?.end();
      resolve(code ?? (signal ? null : 0));
    });
    child.on('error', () => resolve(-1));
  });
  return { name, child, exited };
}

export async function stopProcess(p: Managed, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
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
