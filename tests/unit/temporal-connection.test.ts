/**
 * Connecting to a secured Temporal: the TEMPORAL_TLS* and TEMPORAL_API_KEY settings are validated, and both
 * the client (services) and the native connection (workers) really present the client certificate, check
 * the server's against the given CA and name, and send the API key — seen by a TLS gRPC endpoint that
 * requires a client certificate and records what each connection brought.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';
import { temporalConnectionOptions } from '../../lib/temporal-connection.js';

const openssl = (args: string[], cwd: string) => promisify(execFile)('openssl', args, { cwd });

describe('the Temporal connection settings', () => {
  it('connect in plain text when none is set', () => {
    const config = loadConfig({});
    expect(config.temporalTls).toBe(false);
    expect(temporalConnectionOptions(config)).toEqual({ address: '127.0.0.1:7233' });
  });

  it('turn TLS on with an API key or any TLS setting, and off only when nothing needs it', () => {
    expect(loadConfig({ TEMPORAL_API_KEY: 'k' }).temporalTls).toBe(true);
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' }).temporalTls).toBe(true);
    expect(loadConfig({ TEMPORAL_TLS: 'true' }).temporalTls).toBe(true);
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_TLS: '1', TEMPORAL_API_KEY: 'k' }))).toEqual({
      address: '127.0.0.1:7233',
      tls: {},
      apiKey: 'k',
    });
    expect(() => loadConfig({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(
      /TEMPORAL_TLS: is false, yet TEMPORAL_API_KEY need TLS/,
    );
  });

  it('refuse a client certificate without its key, and a value TEMPORAL_TLS does not take', () => {
    expect(() => loadConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/tls/tls.crt' })).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_PATH: a client certificate needs its key/,
    );
    expect(() => loadConfig({ TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS/);
  });

  it('name the variable whose file cannot be read', () => {
    const config = loadConfig({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nonexistent/ca.crt' });
    expect(() => temporalConnectionOptions(config)).toThrow(ConfigError);
    expect(() => temporalConnectionOptions(config)).toThrow(/TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read/);
  });
});

interface Seen {
  clientName?: string;
  serverName?: string;
  authorization?: string;
  path?: string;
}

describe('a connection to a Temporal behind mTLS', () => {
  let dir: string;
  let server: Http2SecureServer;
  let address: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ordersaga-tls-'));
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl(
      [
        'req',
        '-x509',
        ...ec,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=OrderSaga test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign',
      ],
      dir,
    );
    for (const [name, san, usage] of [
      ['server', 'DNS:temporal.test', 'serverAuth'],
      ['client', 'DNS:orders-worker', 'clientAuth'],
    ] as const) {
      writeFileSync(
        join(dir, `${name}.ext`),
        `subjectAltName=${san}\nextendedKeyUsage=${usage}\nbasicConstraints=CA:FALSE\n`,
      );
      await openssl(
        [
          'req',
          '-new',
          ...ec,
          '-keyout',
          `${name}.key`,
          '-out',
          `${name}.csr`,
          '-subj',
          `/CN=${san.slice(4)}`,
        ],
        dir,
      );
      await openssl(
        [
          'x509',
          '-req',
          '-in',
          `${name}.csr`,
          '-CA',
          'ca.crt',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-out',
          `${name}.crt`,
          '-days',
          '2',
          '-extfile',
          `${name}.ext`,
        ],
        dir,
      );
    }
    server = createSecureServer({
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.crt')),
      ca: readFileSync(join(dir, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
      ALPNProtocols: ['h2'],
    });
    server.on('stream', (stream, headers) => {
      const socket = stream.session?.socket as TLSSocket | undefined;
      seen.push({
        clientName: socket?.getPeerCertificate().subject?.CN as string | undefined,
        serverName: (socket as (TLSSocket & { servername?: string }) | undefined)?.servername,
        authorization: headers.authorization,
        path: headers[':path'],
      });
      // A trailers-only gRPC answer: this endpoint speaks TLS and gRPC, not Temporal.
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '12',
          'grpc-message': 'test endpoint',
        },
        { endStream: true },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const secured = () =>
    temporalConnectionOptions(
      loadConfig({
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'ca.crt'),
        TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.crt'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
        TEMPORAL_TLS_SERVER_NAME: 'temporal.test',
        TEMPORAL_API_KEY: 'test-api-key',
      }),
    );

  it('from a service (the client): presents its certificate, checks the server name, sends the API key', async () => {
    seen.length = 0;
    const connection = Connection.lazy({ ...secured(), connectTimeout: '5s' });
    try {
      await expect(connection.workflowService.getSystemInfo({})).rejects.toThrow(/test endpoint/);
    } finally {
      await connection.close();
    }
    expect(seen[0]).toEqual({
      clientName: 'orders-worker',
      serverName: 'temporal.test',
      authorization: 'Bearer test-api-key',
      path: '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo',
    });
  });

  it('from a worker (the native connection): the same', async () => {
    seen.length = 0;
    await NativeConnection.connect(secured()).then(
      (c) => c.close(),
      () => undefined, // the endpoint answers UNIMPLEMENTED; what matters is what it saw
    );
    expect(seen[0]).toEqual({
      clientName: 'orders-worker',
      serverName: 'temporal.test',
      authorization: 'Bearer test-api-key',
      path: '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo',
    });
  });

  it('without the client certificate: the server refuses the handshake and sees no call', async () => {
    seen.length = 0;
    const { tls, ...rest } = secured();
    // connect() makes its first call within connectTimeout: the refused handshake fails it.
    await expect(
      Connection.connect({ ...rest, tls: { ...tls, clientCertPair: undefined }, connectTimeout: '3s' }),
    ).rejects.toThrow();
    expect(seen).toEqual([]);
  });
});
