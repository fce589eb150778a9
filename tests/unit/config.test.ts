import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseDuration, workerMetricsPort } from '../../lib/config.js';

describe('configuration', () => {
  it('has the contract defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      GATEWAY_PORT: 8080,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      APPROVAL_THRESHOLD_CENTS: 100_000,
      APPROVAL_TIMEOUT: 86_400_000,
    });
    expect(c.serviceUrls).toEqual({
      users: 'http://127.0.0.1:3001',
      products: 'http://127.0.0.1:3002',
      orders: 'http://127.0.0.1:3003',
      payments: 'http://127.0.0.1:3004',
      notifications: 'http://127.0.0.1:3005',
    });
    expect(workerMetricsPort(c, 'orders')).toBe(9403);
  });

  it.each([
    ['GATEWAY_PORT', 'eighty'],
    ['GATEWAY_PORT', '70000'],
    ['DATABASE_URL_ORDERS', 'not a url'],
    ['MONGO_URL', 'http://127.0.0.1:27017'],
    ['APPROVAL_TIMEOUT', '24 hours'],
    ['APPROVAL_THRESHOLD_CENTS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['ADMIN_EMAIL', 'admin'],
    ['EVENTS_TRANSPORT', 'nats'],
    ['KAFKA_BROKERS', 'kafka-1'],
    ['KAFKA_BROKERS', '127.0.0.1:9092,,127.0.0.1:9093'],
    ['KAFKA_BROKERS', 'kafka://127.0.0.1:9092'],
    ['KAFKA_BROKERS', '127.0.0.1:99999'],
  ])('stops on a bad %s (%s) with a message naming it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('treats empty variables as unset and parses durations', () => {
    expect(loadConfig({ GATEWAY_PORT: '' }).GATEWAY_PORT).toBe(8080);
    expect(loadConfig({ APPROVAL_TIMEOUT: '90s' }).APPROVAL_TIMEOUT).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(() => parseDuration('soon')).toThrow('not a duration');
  });

  it('sends events to Redis unless told Kafka, whose brokers default to one local broker', () => {
    expect(loadConfig({})).toMatchObject({ EVENTS_TRANSPORT: 'redis', KAFKA_BROKERS: ['127.0.0.1:9092'] });
    expect(
      loadConfig({ EVENTS_TRANSPORT: 'kafka', KAFKA_BROKERS: 'kafka-1:9092, [::1]:9093' }),
    ).toMatchObject({ EVENTS_TRANSPORT: 'kafka', KAFKA_BROKERS: ['kafka-1:9092', '[::1]:9093'] });
    expect(() => loadConfig({ EVENTS_TRANSPORT: 'nats' })).toThrow('EVENTS_TRANSPORT: redis or kafka');
    expect(() => loadConfig({ KAFKA_BROKERS: 'kafka-1' })).toThrow('KAFKA_BROKERS: each broker is host:port');
  });
});
