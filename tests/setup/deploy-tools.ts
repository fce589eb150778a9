/**
 * The real tools the deployment tests drive, obtained once per machine like the Temporal CLI (scripts/tools.ts):
 * Helm from the Go module proxy and the project's checker (tools/deploy-check: the compose-spec loader,
 * strict Kubernetes decoding, NetworkPolicy reachability). Cached under ~/.cache/ordersaga.
 */
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { ensureDeployCheck, ensureHelm } from '../../scripts/tools.js';

export interface DeployTools {
  helm: string;
  deployCheck: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    deployTools: DeployTools;
  }
}

export default async function setup(project: TestProject) {
  const say = (msg: string) => console.log(msg);
  // One after the other: each Go build already uses every core.
  const helm = await ensureHelm(say);
  const deployCheck = await ensureDeployCheck(say);
  project.provide('deployTools', { helm, deployCheck });
}
