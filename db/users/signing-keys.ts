/**
 * The token-signing key: an Ed25519 pair generated on first start and kept in the users database, so every
 * replica signs with the same key and tokens survive restarts. Every stored public key is published.
 */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import * as schema from './schema.js';
import { JWT_ALGORITHM } from '../../lib/http/auth.js';

export interface SigningKeys {
  kid: string;
  privateKey: CryptoKey | KeyObject | Uint8Array;
  jwks: { keys: JWK[] };
}

export async function loadSigningKeys(db: NodePgDatabase<typeof schema>): Promise<SigningKeys> {
  let [active] = await db.select().from(schema.signingKeys).where(eq(schema.signingKeys.active, true));
  if (!active) {
    const { publicKey, privateKey } = await generateKeyPair(JWT_ALGORITHM, { extractable: true });
    const kid = randomUUID();
    await db
      .insert(schema.signingKeys)
      .values({
        kid,
        publicJwk: { ...(await exportJWK(publicKey)), kid, alg: JWT_ALGORITHM, use: 'sig' },
        privateJwk: { ...(await exportJWK(privateKey)), kid, alg: JWT_ALGORITHM },
      })
      .onConflictDoNothing(); // another replica won the race: use its key
    [active] = await db.select().from(schema.signingKeys).where(eq(schema.signingKeys.active, true));
    if (!active) throw new Error('no active signing key after creating one');
  }
  const all = await db.select({ publicJwk: schema.signingKeys.publicJwk }).from(schema.signingKeys);
  return {
    kid: active.kid,
    privateKey: await importJWK(active.privateJwk as JWK, JWT_ALGORITHM),
    jwks: { keys: all.map((k) => k.publicJwk as JWK) },
  };
}
