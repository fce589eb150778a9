/**
 * The real Temporal server's local configuration (scripts/temporal-server.ts): what the generated config
 * file and dynamic config say, before any process reads them. The server itself runs in the `engine` tier.
 */
import { describe, expect, it } from 'vitest';
import {
  dynamicConfig,
  NUM_HISTORY_SHARDS,
  parseTemporalEngine,
  SERVER_ROLES,
  serverConfig,
  serverDatabaseNames,
  standardServerPorts,
} from '../../scripts/temporal-server.js';

type Sql = { sql: Record<string, unknown> };
type Rpc = { rpc: Record<string, unknown> };

const config = (engine: 'server' | 'cluster') =>
  serverConfig({
    engine,
    postgres: new URL('postgres://postgres:s%40cret@127.0.0.1:5433'),
    databases: serverDatabaseNames('ordersaga_eng'),
    ports: standardServerPorts(7233),
    logLevel: 'warn',
    dynamicConfigFile: '/data/temporal-server/dynamicconfig.yaml',
  }) as {
    persistence: { numHistoryShards: number; datastores: Record<string, Sql> };
    services: Record<string, Rpc>;
    clusterMetadata: { clusterInformation: { active: Record<string, unknown> } };
    dynamicConfigClient: { filepath: string };
  };

describe('the local Temporal server configuration', () => {
  it('keeps history in more than one shard on the stack PostgreSQL, in databases of its own', () => {
    const c = config('server');
    expect(NUM_HISTORY_SHARDS).toBeGreaterThan(1);
    expect(c.persistence.numHistoryShards).toBe(NUM_HISTORY_SHARDS);
    const { default: main, visibility } = c.persistence.datastores;
    expect(main?.sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'ordersaga_eng_temporal',
      connectAddr: '127.0.0.1:5433',
      user: 'postgres',
      password: 's@cret',
    });
    expect(visibility?.sql.databaseName).toBe('ordersaga_eng_temporal_visibility');
    expect(c.dynamicConfigClient.filepath).toBe('/data/temporal-server/dynamicconfig.yaml');
  });

  it('gives every service its own ports on loopback, and the cluster smaller pools per process', () => {
    const c = config('cluster');
    const ports = SERVER_ROLES.flatMap((role) => [
      c.services[role]?.rpc.grpcPort,
      c.services[role]?.rpc.membershipPort,
    ]);
    expect(new Set([...ports, c.services.frontend?.rpc.httpPort]).size).toBe(9);
    for (const role of SERVER_ROLES) expect(c.services[role]?.rpc.bindOnIP).toBe('127.0.0.1');
    expect(c.clusterMetadata.clusterInformation.active.rpcAddress).toBe('127.0.0.1:7233');
    const pool = (e: 'server' | 'cluster') => Number(config(e).persistence.datastores.default?.sql.maxConns);
    expect(pool('cluster') * SERVER_ROLES.length).toBeLessThanOrEqual(2 * pool('server'));
  });

  it('writes dynamic config in the server file format, ours over what the dev server sets itself', () => {
    const d = dynamicConfig({ 'limit.maxIDLength': 1000, 'frontend.namespaceRPS.visibility': 50 });
    expect(d['limit.maxIDLength']).toEqual([{ value: 1000, constraints: {} }]);
    expect(d['frontend.namespaceRPS.visibility']).toEqual([{ value: 50, constraints: {} }]);
    expect(d['history.hostLevelCacheMaxSize']).toEqual([{ value: 8096, constraints: {} }]);
  });

  it('is chosen by name: dev, server or cluster', () => {
    expect(parseTemporalEngine(undefined, 'X')).toBe('dev');
    expect(parseTemporalEngine('cluster', 'X')).toBe('cluster');
    expect(() => parseTemporalEngine('prod', '--temporal')).toThrow(
      '--temporal=prod: expected one of dev, server, cluster',
    );
  });
});
