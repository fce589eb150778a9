/**
 * One local Kafka broker (tools/kafka-broker, kfake) for a test: built into the cache when missing, started
 * on a free port it picks itself (it prints the address, then `ready`), stopped with SIGTERM so that its data
 * dir is flushed. Started again on the same data dir and port, it has the topics, records and offsets.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ensureKafkaBroker } from '../../scripts/tools.js';

export interface KafkaBroker {
  /** host:port of each broker. */
  brokers: string[];
  stop: () => Promise<void>;
}

export async function startKafkaBroker(opts: { dataDir: string; port?: number }): Promise<KafkaBroker> {
  const binary = await ensureKafkaBroker((msg) => console.log(msg));
  const child = spawn(
    binary,
    ['--ports', String(opts.port ?? 0), '--data-dir', opts.dataDir, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const brokers: string[] = [];
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line === 'ready') resolve();
      else brokers.push(line.trim());
    });
    void exited.then((code) => reject(new Error(`the Kafka broker exited (${code}) before it was ready`)));
  });
  return {
    brokers,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
