/**
 * The ports the stacks choose for their servers: free when chosen, below Linux's ephemeral range (where no
 * outgoing connection can take one before its server binds it), and never the same one twice.
 */
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, freePortRange } from '../../scripts/processes.js';

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('free ports', () => {
  it('hands out distinct ports below 32768 that a server can bind, single and in blocks', async () => {
    // One after the other, as a stack asks for them before binding any: 500 draws from 12,000 ports would
    // repeat one by chance if nothing kept track.
    const singles: number[] = [];
    for (let i = 0; i < 500; i++) singles.push(await freePort());
    const bases = await Promise.all(Array.from({ length: 20 }, () => freePortRange(6)));
    const blocks = bases.flatMap((base) => Array.from({ length: 6 }, (_, i) => base + 1 + i));
    const all = [...singles, ...blocks];
    expect(new Set(all).size).toBe(all.length);
    for (const port of all) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
    }
    // Every one of them can be bound now, all at once.
    const servers = await Promise.all(all.map(listen));
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });
});
