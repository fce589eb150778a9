import { remoteVerifier } from '../../lib/http/auth.js';
import type { Role } from '../../lib/runner.js';
import { createCodecApp } from './codec.app.js';

/** `node main.ts codec-server`: the codec endpoint for the Web UI and the CLI; no connection of its own. */
export const codecService: Role = async ({ config }) => ({
  routes: createCodecApp(config, remoteVerifier(config)),
  resources: [],
});
