/**
 * The JWT verifier's memory of tokens it has verified: a repeat is not verified again, yet a changed token,
 * an expired one or one past the memory's minute is checked as the first time.
 */
import { generateKeyPair, SignJWT, type CryptoKey, type JWTVerifyGetKey } from 'jose';
import { beforeAll, expect, it } from 'vitest';
import { createVerifier, JWT_ALGORITHM } from '../../lib/http/auth.js';

let privateKey: CryptoKey;
let keyLookups = 0;
let keys: JWTVerifyGetKey;
const T0 = Date.parse('2026-11-27T00:00:00Z');

beforeAll(async () => {
  const pair = await generateKeyPair(JWT_ALGORITHM);
  privateKey = pair.privateKey;
  keys = async () => {
    keyLookups++;
    return pair.publicKey;
  };
});

const sign = (expiresInS: number, role = 'customer') =>
  new SignJWT({ role, permissions: [] })
    .setProtectedHeader({ alg: JWT_ALGORITHM })
    .setSubject('user-1')
    .setIssuer('iss')
    .setAudience('aud')
    .setJti(`jti-${expiresInS}-${role}`)
    .setIssuedAt(T0 / 1000)
    .setExpirationTime(T0 / 1000 + expiresInS)
    .sign(privateKey);

it('verifies a token once, and then answers its repeats from memory until its exp or a minute', async () => {
  let clock = T0;
  const verify = createVerifier({ keys, issuer: 'iss', audience: 'aud', now: () => clock });
  const token = await sign(3600);
  keyLookups = 0;
  const first = await verify(token);
  expect(first).toMatchObject({ userId: 'user-1', role: 'customer', token });
  expect(await verify(token)).toEqual(first);
  expect(keyLookups).toBe(1); // the repeat was not verified again

  clock += 61_000; // past the memory's minute: verified again (still valid)
  expect(await verify(token)).toEqual(first);
  expect(keyLookups).toBe(2);

  // A token changed in any way is another token: verified, and refused.
  const [h, p, sig] = token.split('.');
  const tampered = `${h}.${p}.${sig!.slice(0, -2)}${sig!.endsWith('AA') ? 'BB' : 'AA'}`;
  await expect(verify(tampered)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});

it('refuses a remembered token once it has expired', async () => {
  let clock = T0;
  const verify = createVerifier({ keys, issuer: 'iss', audience: 'aud', now: () => clock });
  const token = await sign(30);
  await verify(token);
  clock += 31_000;
  await expect(verify(token)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
});
