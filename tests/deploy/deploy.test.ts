/**
 * Static checks of the deployment files (Dockerfile, docker-compose.yml, deploy/k8s) against the code: the
 * process roles of main.ts, the configuration schema of lib/config.ts and temporal-config/. No Docker needed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import type { ServiceName } from '../../contracts/index.js';
import { loadConfig, workerMetricsPort, type Config } from '../../lib/config.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** `api users`, ..., `api gateway`, `worker users`, ...: the keys of the APIS and WORKERS tables of main.ts. */
const mainTs = read('main.ts');
const roles = (table: string, kind: string) => {
  const body = new RegExp(`const ${table}\\b[^{]*\\{([^}]*)\\}`).exec(mainTs)?.[1] ?? '';
  return [...body.matchAll(/^\s*(\w+):/gm)].map((m) => `${kind} ${m[1]}`);
};
const ROLES = [...roles('APIS', 'api'), ...roles('WORKERS', 'worker')];

/** The port a role's /health and /ready answer on, under a given configuration. */
const rolePort = (config: Config, role: string) => {
  const [kind, name] = role.split(' ') as ['api' | 'worker', string];
  if (kind === 'worker') return workerMetricsPort(config, name as ServiceName);
  return name === 'gateway' ? config.GATEWAY_PORT : config.servicePorts[name as ServiceName];
};

/** Validates an environment with the real schema; returns the keys the schema does not know (zod drops them). */
const unknownKeys = (env: Record<string, string>) => {
  const config = loadConfig(env);
  return { config, unknown: Object.keys(env).filter((k) => !(k in config)) };
};

const EXPECTED_SA = (
  JSON.parse(read('temporal-config/search-attributes.json')) as { searchAttributes: Record<string, string> }
).searchAttributes;

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, unknown>;
  healthcheck?: { test: string[] };
  ports?: string[];
}
// Compose files rely on `<<` merge keys; the parser resolves them and the anchors.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const services = Object.entries(compose.services);
const appServices = services.filter(([, s]) => s.image?.startsWith('ordersaga'));
/** Compose interpolation as it runs with nothing exported: `${VAR:-default}` becomes `default`. */
const composeEnv = (s: ComposeService) =>
  Object.fromEntries(
    Object.entries(s.environment ?? {}).map(([k, v]) => [k, String(v).replace(/\$\{\w+:-([^}]*)\}/g, '$1')]),
  );

describe('docker-compose.yml', () => {
  it('runs every role of main.ts, with a /ready healthcheck on its port', () => {
    expect(ROLES).toHaveLength(11); // five services, the gateway, five workers
    for (const role of ROLES) {
      const found = appServices.filter(([, s]) => s.command?.join(' ') === role);
      expect(found, role).toHaveLength(1);
      const [, service] = found[0]!;
      const port = rolePort(loadConfig(composeEnv(service)), role);
      expect(service.healthcheck?.test.join(' '), role).toContain(`http://127.0.0.1:${port}/ready`);
    }
  });

  it('migrates then seeds in a one-shot service', () => {
    expect(compose.services.migrate?.entrypoint?.join(' ')).toMatch(/main\.ts migrate && .*main\.ts seed/);
  });

  it('gives every OrderSaga process an environment the config schema accepts and fully knows', () => {
    expect(appServices.length).toBe(13); // eleven roles, migrate and register-search-attributes
    for (const [name, service] of appServices) {
      const { config, unknown } = unknownKeys(composeEnv(service));
      expect(unknown, name).toEqual([]);
      expect(config.BIND_HOST, name).toBe('0.0.0.0');
      // Each service URL names the compose service that runs that API, on that API's port.
      for (const [svc, url] of Object.entries(config.serviceUrls)) {
        const target = new URL(url);
        expect(compose.services[target.hostname]?.command?.join(' '), url).toBe(`api ${svc}`);
        expect(Number(target.port), url).toBe(config.servicePorts[svc as ServiceName]);
      }
    }
  });

  it('publishes only the gateway and Temporal', () => {
    const published = services.filter(([, s]) => s.ports?.length).map(([n, s]) => `${n} ${s.ports!.join()}`);
    expect(published.sort()).toEqual(['gateway 8080:8080', 'temporal 7233:7233', 'temporal-ui 8233:8080']);
  });

  it("registers the search attributes with the image's own role, which reads temporal-config", () => {
    const job = compose.services['register-search-attributes']!;
    expect(job.command).toEqual(['register-search-attributes']);
    expect(job.image).toBe(compose.services['users-api']?.image);
    for (const name of Object.keys(EXPECTED_SA)) expect(read('docker-compose.yml')).not.toContain(name);
  });
});

interface Container {
  image?: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { template?: { spec: { containers: Container[] } } };
}
const K8S = 'deploy/k8s';
const manifestFiles = readdirSync(new URL(`../../${K8S}`, import.meta.url)).filter(
  (f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml',
);
const objects = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`${K8S}/${file}`)).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    return doc.toJS() as K8sObject;
  }),
);
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
const containersOf = (o?: K8sObject) => o?.spec?.template?.spec.containers ?? [];
const k8sEnv = {
  ...find('ConfigMap', 'ordersaga-config')?.data,
  ...find('Secret', 'ordersaga-secrets')?.stringData,
};

describe('deploy/k8s', () => {
  it('lists every manifest in kustomization.yaml', () => {
    const kustomization = parse(read(`${K8S}/kustomization.yaml`)) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual([...manifestFiles].sort());
  });

  it('has a ConfigMap and Secret the config schema accepts and fully knows', () => {
    const { config, unknown } = unknownKeys(k8sEnv);
    expect(unknown).toEqual([]);
    expect(config.BIND_HOST).toBe('0.0.0.0');
  });

  it('deploys every role of main.ts with /health liveness and /ready readiness on its port', () => {
    const config = loadConfig(k8sEnv);
    const deployments = objects.filter((o) => o.kind === 'Deployment').flatMap(containersOf);
    expect(deployments).toHaveLength(ROLES.length);
    for (const role of ROLES) {
      const container = deployments.find((c) => c.args?.join(' ') === role);
      expect(container, role).toBeDefined();
      const port = container!.ports?.find((p) => p.name === container!.livenessProbe?.httpGet?.port);
      expect(port?.containerPort, role).toBe(rolePort(config, role));
      expect(container!.livenessProbe?.httpGet?.path, role).toBe('/health');
      expect(container!.readinessProbe?.httpGet, role).toEqual({ path: '/ready', port: port?.name });
    }
  });

  it("registers the search attributes with the image's own role, which reads temporal-config", () => {
    const [container] = containersOf(find('Job', 'register-search-attributes'));
    expect(container!.args).toEqual(['register-search-attributes']);
    expect(container!.image).toBe(containersOf(find('Job', 'migrate'))[0]?.image);
    for (const name of Object.keys(EXPECTED_SA))
      expect(read('deploy/k8s/register-search-attributes-job.yaml')).not.toContain(name);
  });

  it('migrates then seeds in a Job', () => {
    expect(containersOf(find('Job', 'migrate'))[0]?.args?.join(' ')).toMatch(
      /main\.ts migrate && .*main\.ts seed/,
    );
  });
});
