/**
 * A TCP proxy that can lose answers: every byte from the client reaches the server, but while `dropAnswers`
 * is on, what the server sends back is discarded and the connection is reset a moment later (an HTTP/2
 * connection that lost a frame cannot go on). Between the order service and Temporal, it makes the real
 * race of a request Temporal carried out whose answer never arrived.
 */
import net from 'node:net';

/** How long a connection that lost an answer stays open before it is reset. */
const RESET_AFTER_MS = 300;

export interface FaultProxy {
  /** host:port to point the client at. */
  address: string;
  dropAnswers(on: boolean): void;
  /** Bytes of answers discarded so far. */
  dropped(): number;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [host, port] = [
    target.slice(0, target.lastIndexOf(':')),
    Number(target.slice(target.lastIndexOf(':') + 1)),
  ];
  let dropping = false;
  let dropped = 0;
  const open = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(port, host);
    open.add(client);
    open.add(upstream);
    let reset: NodeJS.Timeout | undefined;
    const closeBoth = () => {
      clearTimeout(reset);
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!dropping) {
        client.write(chunk);
        return;
      }
      dropped += chunk.length;
      reset ??= setTimeout(() => {
        client.resetAndDestroy();
        closeBoth();
      }, RESET_AFTER_MS);
    });
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;

  return {
    address: `127.0.0.1:${own}`,
    dropAnswers(on) {
      dropping = on;
    },
    dropped: () => dropped,
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
