import { describe, expect, it } from 'vitest';
import { clientAddress, compileTrust, parseTrustedProxies } from '../../lib/http/client-address.js';
import { ConfigError, loadConfig } from '../../lib/config.js';

const nobody = compileTrust([]);
const nginx = compileTrust(['172.31.250.0/24']);

describe('the client address', () => {
  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', nobody)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', undefined, nobody)).toBe('203.0.113.7');
  });

  it('is the socket peer when the peer is not a trusted proxy: a spoofed header is ignored', () => {
    expect(clientAddress('203.0.113.7', '198.51.100.1', nginx)).toBe('203.0.113.7');
    expect(clientAddress('203.0.113.7', '172.31.250.5', nginx)).toBe('203.0.113.7');
  });

  it('is what the trusted proxy appended, not what the client wrote before it', () => {
    // Nginx's $proxy_add_x_forwarded_for: the client's own header, then the peer Nginx saw.
    expect(clientAddress('172.31.250.2', '198.51.100.1', nginx)).toBe('198.51.100.1');
    expect(clientAddress('172.31.250.2', '10.9.9.9, 198.51.100.1', nginx)).toBe('198.51.100.1');
    expect(clientAddress('172.31.250.2', '172.31.250.9, 198.51.100.1', nginx)).toBe('198.51.100.1');
  });

  it('walks past every trusted hop, from the right', () => {
    const chain = compileTrust(['10.0.0.0/8', '192.0.2.10']);
    expect(clientAddress('10.1.2.3', '198.51.100.1, 192.0.2.10, 10.0.0.4', chain)).toBe('198.51.100.1');
    expect(clientAddress('10.1.2.3', '198.51.100.9,198.51.100.1,192.0.2.10', chain)).toBe('198.51.100.1');
    // Every hop trusted (a request from inside): the farthest one.
    expect(clientAddress('10.1.2.3', '10.0.0.7, 10.0.0.4', chain)).toBe('10.0.0.7');
    // A trusted peer that sent no header is the client itself.
    expect(clientAddress('10.1.2.3', undefined, chain)).toBe('10.1.2.3');
    expect(clientAddress('10.1.2.3', '', chain)).toBe('10.1.2.3');
  });

  it('stops at an entry that is not an address, at the last trusted hop before it', () => {
    expect(clientAddress('172.31.250.2', 'unknown', nginx)).toBe('172.31.250.2');
    expect(clientAddress('172.31.250.2', '198.51.100.1, 172.31.250.3, evil', nginx)).toBe('172.31.250.2');
    expect(clientAddress('172.31.250.2', '198.51.100.1, 1.2.3.4:5678, 172.31.250.3', nginx)).toBe(
      '172.31.250.3',
    );
    // Legacy IPv4 forms no proxy writes are not addresses either.
    expect(clientAddress('172.31.250.2', '127.1', nginx)).toBe('172.31.250.2');
  });

  it('takes IPv6, written compactly, and IPv4-mapped IPv6 as the IPv4 address it carries', () => {
    const v6 = compileTrust(['2001:db8:1::/48']);
    expect(clientAddress('2001:db8:1::2', '2001:DB8:2:0:0:0:0:1', v6)).toBe('2001:db8:2::1');
    expect(clientAddress('2001:db8:2::5', '198.51.100.1', v6)).toBe('2001:db8:2::5');
    // A dual-stack socket reports IPv4 peers mapped; an IPv4 range trusts them, and the key is the IPv4 one.
    expect(clientAddress('::ffff:172.31.250.2', '198.51.100.1', nginx)).toBe('198.51.100.1');
    expect(clientAddress('::ffff:203.0.113.7', '198.51.100.1', nginx)).toBe('203.0.113.7');
    expect(clientAddress('172.31.250.2', '::ffff:198.51.100.1', nginx)).toBe('198.51.100.1');
    // A mapped range is its IPv4 range; ::1 is not 127.0.0.1.
    expect(clientAddress('127.0.0.1', '198.51.100.1', compileTrust(['::ffff:127.0.0.0/104']))).toBe(
      '198.51.100.1',
    );
    expect(clientAddress('127.0.0.1', '198.51.100.1', compileTrust(['::1']))).toBe('127.0.0.1');
    expect(clientAddress('::1', '198.51.100.1', compileTrust(['127.0.0.1']))).toBe('::1');
    expect(clientAddress('::1', '198.51.100.1', compileTrust(['::1']))).toBe('198.51.100.1');
  });

  it('keeps a peer it cannot read as it is, and says unknown without one', () => {
    expect(clientAddress(undefined, '198.51.100.1', nginx)).toBe('unknown');
    expect(clientAddress('', '198.51.100.1', nginx)).toBe('unknown');
    expect(clientAddress('some-socket', '198.51.100.1', nginx)).toBe('some-socket');
  });
});

describe('TRUSTED_PROXIES', () => {
  it('takes addresses and CIDR ranges, IPv4 and IPv6, comma-separated; empty or unset trusts nobody', () => {
    expect(parseTrustedProxies(' 10.0.0.0/8, 127.0.0.1,::1 ,2001:db8::/32,')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      '2001:db8::/32',
    ]);
    expect(loadConfig({}).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: '' }).TRUSTED_PROXIES).toEqual([]);
    expect(loadConfig({ TRUSTED_PROXIES: '172.31.250.0/24' }).TRUSTED_PROXIES).toEqual(['172.31.250.0/24']);
  });

  it.each(['nginx', '10.0.0.0/33', '10/8', '127.1', '10.0.0.0/8;10.1.0.0/16', '*'])(
    'stops the process on %s, naming the variable and the entry',
    (value) => {
      expect(() => loadConfig({ TRUSTED_PROXIES: `127.0.0.1,${value}` })).toThrow(ConfigError);
      expect(() => loadConfig({ TRUSTED_PROXIES: `127.0.0.1,${value}` })).toThrow(
        `TRUSTED_PROXIES: not an IP address or CIDR range: ${value}`,
      );
    },
  );

  it('has a failed-authentication limit, 20 a minute unless set', () => {
    expect(loadConfig({}).RATE_LIMIT_AUTH_FAILURES).toBe('20/1m');
    expect(() => loadConfig({ RATE_LIMIT_AUTH_FAILURES: 'twenty' })).toThrow('RATE_LIMIT_AUTH_FAILURES');
  });
});
