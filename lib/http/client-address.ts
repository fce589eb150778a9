/**
 * The client's address, as every per-address limit and log line needs it. Behind a proxy (the Helm chart's
 * ingress controller, Compose's Nginx) every request comes from the proxy, so the address it saw is read from
 * X-Forwarded-For: but only when the request came from a proxy the operator trusts (TRUSTED_PROXIES), since
 * anyone else can write any address there. The header is read from the right, where the nearest proxy
 * appended its peer, past every trusted hop; the first untrusted address is the client. IPv4-mapped IPv6
 * addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) are the IPv4 address they carry.
 */
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/**
 * An address, or null: IPv4 only in the dotted four-part form (ipaddr.js would also take `127.1` or `0x7f.1`,
 * which no proxy writes), IPv4-mapped IPv6 as IPv4.
 */
function parseAddress(value: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(value)) return ipaddr.IPv4.parse(value);
  if (!ipaddr.IPv6.isValid(value)) return null;
  const v6 = ipaddr.IPv6.parse(value);
  return v6.isIPv4MappedAddress() ? v6.toIPv4Address() : v6;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or one address (a range of one); IPv4-mapped IPv6 ranges as IPv4. */
function parseRange(value: string): Range | null {
  if (!value.includes('/')) {
    const address = parseAddress(value);
    return address && [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  if (ipaddr.IPv4.isValidCIDRFourPartDecimal(value)) return ipaddr.IPv4.parseCIDR(value);
  if (!ipaddr.IPv6.isValidCIDR(value)) return null;
  const [v6, bits] = ipaddr.IPv6.parseCIDR(value);
  return v6.isIPv4MappedAddress() && bits >= 96 ? [v6.toIPv4Address(), bits - 96] : [v6, bits];
}

/**
 * TRUSTED_PROXIES: addresses and CIDR ranges, comma-separated (spaces allowed). Throws on an entry that is
 * neither, naming it.
 */
export function parseTrustedProxies(value: string): string[] {
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !parseRange(e));
  if (bad.length > 0)
    throw new Error(`not an IP address or CIDR range: ${bad.join(', ')} (expected e.g. 10.0.0.0/8, ::1)`);
  return entries;
}

/** Whether an address is one of the trusted proxies. */
export type Trust = (address: Address) => boolean;

export function compileTrust(entries: readonly string[]): Trust {
  const ranges = entries.map((e) => {
    const range = parseRange(e);
    if (!range) throw new Error(`not an IP address or CIDR range: ${e}`);
    return range;
  });
  if (ranges.length === 0) return () => false;
  return (address) => ranges.some((r) => r[0].kind() === address.kind() && address.match(r));
}

/**
 * The client's address: the socket's peer, unless that peer is a trusted proxy; then the rightmost address
 * in X-Forwarded-For that is not a trusted proxy (or the leftmost, when all are). An entry that is not an
 * address ends the walk at the last trusted hop before it: a trusted proxy writes addresses, so whatever
 * else is there came from the client's side and says nothing reliable. `unknown` when there is no peer.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trust: Trust,
): string {
  const socket = peer === undefined ? null : parseAddress(peer);
  if (!socket) return peer || 'unknown';
  let client = socket;
  if (!trust(client) || !forwardedFor) return client.toString();
  const hops = forwardedFor.split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = parseAddress(hops[i]!.trim());
    if (!hop) break;
    client = hop;
    if (!trust(hop)) break;
  }
  return client.toString();
}
