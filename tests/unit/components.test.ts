/** A missing component stops the command with a message naming it and how to provide it. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensurePostgres, ensureRedis } from '../../scripts/stack.js';
import { ensureTemporalCli, MissingComponentError } from '../../scripts/tools.js';

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
