/**
 * How every connection to Temporal is made — the services' client, each worker, the search attribute
 * registration: the address, TLS or mTLS and the API key, from the validated configuration (lib/config.ts).
 * Local development and the tests connect in plain text; Temporal Cloud and secured clusters set the
 * TEMPORAL_TLS* variables and/or TEMPORAL_API_KEY (README.md "Connecting to a secured Temporal").
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError, type Config } from './config.js';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

type TemporalSettings = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
  | 'temporalTls'
>;

/** A file a variable names; a missing or unreadable one stops the process with the variable's name. */
function readSetting(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(
      `invalid configuration:\n  ${variable}: cannot read ${path} (${(err as Error).message})`,
    );
  }
}

/** The options for `Connection.connect`/`lazy` (client) and `NativeConnection.connect` (worker) alike. */
export function temporalConnectionOptions(config: TemporalSettings): TemporalConnectionOptions {
  const options: TemporalConnectionOptions = { address: config.TEMPORAL_ADDRESS };
  if (config.temporalTls) {
    const tls: TLSConfig = {};
    if (config.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = config.TEMPORAL_TLS_SERVER_NAME;
    if (config.TEMPORAL_TLS_SERVER_CA_CERT_PATH)
      tls.serverRootCACertificate = readSetting(
        'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
        config.TEMPORAL_TLS_SERVER_CA_CERT_PATH,
      );
    if (config.TEMPORAL_TLS_CLIENT_CERT_PATH && config.TEMPORAL_TLS_CLIENT_KEY_PATH)
      tls.clientCertPair = {
        crt: readSetting('TEMPORAL_TLS_CLIENT_CERT_PATH', config.TEMPORAL_TLS_CLIENT_CERT_PATH),
        key: readSetting('TEMPORAL_TLS_CLIENT_KEY_PATH', config.TEMPORAL_TLS_CLIENT_KEY_PATH),
      };
    options.tls = tls;
  }
  if (config.TEMPORAL_API_KEY) options.apiKey = config.TEMPORAL_API_KEY;
  return options;
}
