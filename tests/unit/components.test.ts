/** A missing component stops the command with a message naming it and how to provide it. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localCodecEnv } from '../../scripts/stack.js';
import { ensurePostgres, ensureRedis } from '../../scripts/stores.js';
import {
  ensureHelm,
  ensureKafkaBroker,
  ensureTemporalCli,
  MissingComponentError,
} from '../../scripts/tools.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('missing components', () => {
  it('names TEMPORAL_CLI_PATH when it points at no executable', async () => {
    vi.stubEnv('TEMPORAL_CLI_PATH', '/nonexistent/temporal');
    await expect(ensureTemporalCli(() => {})).rejects.toThrow(MissingComponentError);
    await expect(ensureTemporalCli(() => {})).rejects.toThrow('TEMPORAL_CLI_PATH=/nonexistent/temporal');
  });

  it('names KAFKA_BROKER_PATH when it points at no executable', async () => {
    vi.stubEnv('KAFKA_BROKER_PATH', '/nonexistent/ordersaga-kafka-broker');
    await expect(ensureKafkaBroker(() => {})).rejects.toThrow(
      'KAFKA_BROKER_PATH=/nonexistent/ordersaga-kafka-broker',
    );
  });

  it('asks for Go 1.25 when the Go on the PATH is too old to build the pinned tools', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ordersaga-go-'));
    try {
      // A `go` that answers as Debian 12's golang-go does, first on the PATH, and an empty cache.
      writeFileSync(join(dir, 'go'), '#!/bin/sh\necho go1.19.8\n', { mode: 0o755 });
      vi.stubEnv('PATH', `${dir}:${process.env.PATH}`);
      vi.stubEnv('ORDERSAGA_CACHE', join(dir, 'cache'));
      await expect(ensureHelm(() => {})).rejects.toThrow(MissingComponentError);
      await expect(ensureHelm(() => {})).rejects.toThrow(
        /is go1\.19\.8: install Go 1\.25 or newer from https:\/\/go\.dev\/dl \(Debian 12's golang-go is 1\.19, too old\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the database variables when PostgreSQL cannot be reached', async () => {
    await expect(ensurePostgres('postgres://postgres@127.0.0.2:1/users', () => {})).rejects.toThrow(
      /PostgreSQL is not reachable at 127\.0\.0\.2:1.*DATABASE_URL_USERS/,
    );
  });

  it('names REDIS_URL when Redis cannot be reached', async () => {
    await expect(ensureRedis('redis://127.0.0.2:1/0', () => {})).rejects.toThrow(
      /Redis is not reachable at 127\.0\.0\.2:1.*REDIS_URL/,
    );
  });
});

describe('the entry point', () => {
  it('stops at start with a message naming a bad variable', async () => {
    const failed = run(process.execPath, ['--import', 'tsx', 'main.ts', 'api', 'users'], {
      cwd: root,
      env: { ...process.env, GATEWAY_PORT: 'eighty', APPROVAL_TIMEOUT: 'tomorrow' },
    });
    await expect(failed).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/GATEWAY_PORT[\s\S]*APPROVAL_TIMEOUT/),
    });
  });

  it('prints its usage for an unknown role', async () => {
    await expect(
      run(process.execPath, ['--import', 'tsx', 'main.ts', 'api', 'billing'], { cwd: root }),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        'usage: main.ts api <users|products|orders|payments|notifications|gateway>',
      ),
    });
  });
});

describe('the local codec endpoint', () => {
  it('answers the dev server’s Web UI (no login, no token) only while everything listens on loopback', () => {
    expect(localCodecEnv({}, '127.0.0.1', true)).toEqual({ CODEC_SERVER_AUTH: 'none' });
    // Reachable from other machines, or another Temporal's UI (which may have a login): the token stays.
    expect(localCodecEnv({}, '0.0.0.0', true)).toEqual({});
    expect(localCodecEnv({}, '127.0.0.1', false)).toEqual({});
    expect(localCodecEnv({ CODEC_SERVER_AUTH: 'token' }, '127.0.0.1', true)).toEqual({});
  });
});
