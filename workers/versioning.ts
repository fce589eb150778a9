/**
 * Worker Versioning for the worker that runs the saga: which deployment version it is, and (when
 * WORKER_PROMOTE=auto) making that version current once the server has seen it poll. Orders are PINNED: an
 * order finishes on the build that started it, so a new build never replays an old order's history.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeConnection, WorkerDeploymentOptions } from '@temporalio/worker';
import type { Config } from '../lib/config.js';
import type { Logger } from '../lib/logger.js';

const root = fileURLToPath(new URL('..', import.meta.url));

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]))
    .filter((f) => /\.(ts|js)$/.test(f))
    .sort();
}

/**
 * The build id of the workflow code this worker runs: a hash of the prebuilt bundle (dist/, as the image
 * runs), else of the sources the bundle is made from (workflows/ and the contracts it imports).
 */
export function workflowBuildId(
  source: { workflowBundle: { codePath: string } } | { workflowsPath: string },
) {
  const hash = createHash('sha256');
  const inputs =
    'workflowBundle' in source
      ? [source.workflowBundle.codePath]
      : [...files(join(root, 'workflows')), ...files(join(root, 'contracts'))];
  for (const f of inputs) hash.update(f.slice(root.length)).update(readFileSync(f));
  return `saga-${hash.digest('hex').slice(0, 12)}`;
}

export function deploymentOptions(config: Config, buildId: string): WorkerDeploymentOptions | undefined {
  if (config.WORKER_VERSIONING === 'off') return undefined;
  return {
    version: { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  };
}

/** Who promoted a version by itself (WORKER_PROMOTE=auto); anyone else who set one is an operator. */
const AUTO_PROMOTER = 'ordersaga orders-worker';

/**
 * Makes this worker's version the deployment's current one (new orders start on it), once the server has
 * registered it from the worker's polls. Runs beside the worker; gives up only when the worker stops.
 * An operator's choice stands: when the current version was set by anyone but a worker promoting itself
 * (the Temporal CLI, the Web UI, a deploy job), this worker leaves it and serves the orders pinned to it,
 * so a worker of an old version that restarts mid-rollout never takes the current version back.
 */
export async function promoteWhenSeen(
  connection: NativeConnection,
  config: Config,
  buildId: string,
  logger: Logger,
  stopped: () => boolean,
): Promise<void> {
  const { workflowService } = connection;
  const deploymentName = config.WORKER_DEPLOYMENT_NAME;
  const namespace = config.TEMPORAL_NAMESPACE;
  for (let wait = 100; !stopped(); wait = Math.min(wait * 2, 2000)) {
    try {
      const { workerDeploymentInfo } = await workflowService.describeWorkerDeployment({
        namespace,
        deploymentName,
      });
      const current = workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId;
      if (current === buildId) return;
      const setBy = workerDeploymentInfo?.lastModifierIdentity ?? '';
      if (current && setBy && !setBy.startsWith(AUTO_PROMOTER)) {
        logger.info(
          { deploymentName, buildId, current, setBy },
          'an operator chose the current version: this worker serves only the orders pinned to its own',
        );
        return;
      }
      const known = workerDeploymentInfo?.versionSummaries?.some(
        (v) => v.deploymentVersion?.buildId === buildId,
      );
      if (known) {
        await workflowService.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName,
          buildId,
          identity: `${AUTO_PROMOTER} ${buildId}`,
        });
        logger.info({ deploymentName, buildId, previous: current ?? null }, 'worker version set current');
        return;
      }
    } catch (err) {
      // NOT_FOUND until the first poll registers the deployment; anything else is retried the same way.
      if ((err as { code?: number }).code !== 5)
        logger.warn({ err, deploymentName, buildId }, 'could not make the worker version current yet');
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
