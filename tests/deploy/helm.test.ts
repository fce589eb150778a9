/**
 * The Helm chart (deploy/helm/ordersaga) as a cluster would get it: `helm lint` and `helm template` by Helm
 * itself, every rendered object decoded strictly into its Kubernetes Go type and cross-checked
 * (tools/deploy-check), the NetworkPolicies' reachability against what the code needs, and the rendered
 * configuration against lib/config.ts and main.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../scripts/tools.js';
import { TASK_QUEUES, type ServiceName } from '../../contracts/index.js';
import { tracingWanted } from '../../lib/tracing/index.js';
import {
  brokenCopy,
  read,
  removeCopy,
  replaceIn,
  rolePort,
  ROLES,
  root,
  run,
  SEARCH_ATTRIBUTES,
  asTheWebUi,
  startCodecServer,
  tools,
  unknownKeys,
} from './support.js';

const CHART = 'deploy/helm/ordersaga';
const RELEASE = 'shop';
const NAMESPACE = 'shop';
const FULL = `${RELEASE}-ordersaga`;
const ALL = join(root, CHART, 'values-all.yaml');
/** Secrets values-all.yaml names but leaves to the operator (or cert-manager) to create. */
const EXTERNAL_SECRETS = [
  'ordersaga-secrets',
  'temporal-client-tls',
  'temporal-api-key',
  'shop-example-com-tls',
];

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  startupProbe?: { httpGet?: { path: string; port: string } };
  livenessProbe?: { httpGet?: { path: string; port: string } };
  readinessProbe?: { httpGet?: { path: string; port: string } };
  resources?: { requests?: object; limits?: object };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; seccompProfile?: { type: string } };
  serviceAccountName?: string;
  volumes?: { name: string; emptyDir?: object; secret?: { secretName: string } }[];
}
type Labels = Record<string, string>;
/** A label selector; a Service's selector is its `matchLabels` alone. */
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values: string[] }[];
}
/** A NetworkPolicy rule, as far as the tests read it. */
interface Rule {
  to?: { podSelector?: Selector }[];
  from?: { podSelector?: Selector }[];
  ports?: { port: number }[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string; labels?: Labels; annotations?: Record<string, string> };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    replicas?: number;
    selector?: Selector & Labels;
    template?: { metadata?: { labels?: Labels; annotations?: Record<string, string> }; spec: PodSpec };
    scaleTargetRef?: { kind: string; name: string };
    podTargetLabels?: string[];
    // A StatefulSet's, a headless Service's, a NetworkPolicy's.
    serviceName?: string;
    clusterIP?: string;
    publishNotReadyAddresses?: boolean;
    volumeClaimTemplates?: { metadata: { name: string } }[];
    ingress?: Rule[];
    egress?: Rule[];
    metrics?: {
      type: string;
      external?: { metric: { selector: { matchLabels: Record<string, string> } } };
    }[];
  };
}

const copies: string[] = [];
afterAll(() => copies.forEach(removeCopy));

/** `helm template`: the rendered stream, or Helm's complaint. */
async function template(args: string[] = [], chart = join(root, CHART)): Promise<string> {
  const res = await run(tools().helm, ['template', RELEASE, chart, '--namespace', NAMESPACE, ...args]);
  if (res.code !== 0) throw new Error(res.stderr.trim());
  return res.stdout;
}

const objectsOf = (rendered: string) =>
  parseAllDocuments(rendered)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);

/** tools/deploy-check k8s on a rendered stream: the objects and reachable paths, or the problems found. */
async function check(rendered: string, externalSecrets: string[] = []) {
  const file = brokenCopy([], (dir) => writeFileSync(join(dir, 'rendered.yaml'), rendered));
  copies.push(file);
  const res = await run(tools().deployCheck, [
    'k8s',
    '--namespace',
    NAMESPACE,
    '--peers',
    join(root, 'tests/deploy/cluster.yaml'),
    ...externalSecrets.flatMap((s) => ['--assume-secret', s]),
    join(file, 'rendered.yaml'),
  ]);
  if (res.code !== 0) throw new Error(res.stderr.trim());
  return JSON.parse(res.stdout) as { objects: string[]; reachable: string[] };
}

/** Whether a selector picks pods with these labels (matchLabels, and matchExpressions with `In`). */
const selects = (selector: Selector | undefined, labels: Labels = {}) =>
  selector !== undefined &&
  Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
  (selector.matchExpressions ?? []).every((e) => e.operator === 'In' && e.values.includes(labels[e.key]!));
const podLabels = (o: K8sObject) => o.spec?.template?.metadata?.labels;

const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const podSpec = (o?: K8sObject) => o?.spec?.template?.spec;
const deployments = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment');
const roleOf = (o: K8sObject) => podSpec(o)?.containers[0]?.args?.join(' ') ?? '';
const envOf = (objects: K8sObject[], hooks = false) => ({
  ...find(objects, 'ConfigMap', `${FULL}${hooks ? '-hooks' : ''}-config`)?.data,
  ...find(objects, 'Secret', `${FULL}${hooks ? '-hooks' : ''}-secrets`)?.stringData,
});

/**
 * What each process reaches, read off the code: its own database(s) (api/<service>/index.ts,
 * workers/<service>.ts, db/setup.ts), Redis for the domain events the users and orders services and the
 * products, orders and payments workers publish (lib/events/publisher.ts), the users service's signing keys for every other API and the gateway
 * (lib/http/auth.ts), the orders service's calls to users and products (api/orders), the gateway's to all
 * five, and Temporal for the orders API, the workers and the registration job. `events`: it opens the event
 * bus (lib/events/open-bus.ts: the users and orders outbox relays, the products and payments workers, the
 * notifications consumer), so with events.transport=kafka it reaches the brokers too.
 */
const NEEDS: Record<string, { calls: string[]; stores: string[]; temporal: boolean; events?: true }> = {
  'api users': { calls: [], stores: ['postgresql', 'redis'], temporal: false, events: true },
  'api products': { calls: ['api users'], stores: ['mongodb', 'postgresql'], temporal: false },
  'api orders': {
    calls: ['api users', 'api products'],
    stores: ['postgresql', 'redis'],
    temporal: true,
    events: true,
  },
  'api payments': { calls: ['api users'], stores: ['postgresql'], temporal: false },
  'api notifications': { calls: ['api users'], stores: ['redis'], temporal: false, events: true },
  'api gateway': {
    calls: ['api users', 'api products', 'api orders', 'api payments', 'api notifications'],
    stores: ['redis'],
    temporal: false,
  },
  'worker users': { calls: [], stores: ['postgresql'], temporal: true },
  'worker products': { calls: [], stores: ['postgresql', 'redis'], temporal: true, events: true },
  'worker orders': { calls: [], stores: ['postgresql', 'redis'], temporal: true },
  'worker payments': { calls: [], stores: ['postgresql', 'redis'], temporal: true, events: true },
  'worker notifications': { calls: [], stores: ['redis'], temporal: true },
  migrate: { calls: [], stores: ['postgresql', 'mongodb'], temporal: false },
  'register-search-attributes': { calls: [], stores: [], temporal: true },
  // The codec endpoint keeps no connection; with auth `token` it reads the users service's keys.
  'codec-server': { calls: [], stores: [], temporal: false },
};
const STORE_PORTS: Record<string, number> = { postgresql: 5432, mongodb: 27017, redis: 6379 };

/** The paths the system needs, and nothing more, as tools/deploy-check prints them. */
function neededPaths(
  objects: K8sObject[],
  opts: {
    temporal: string;
    otel: boolean;
    istio?: boolean;
    /** events.transport=kafka on brokers outside the chart (cluster.yaml's `kafka`). */
    kafka?: boolean;
    /** The codec endpoint's auth, and who may reach it (values-all: operators' VPN, with a token). */
    codec?: { auth: 'none' | 'token'; from: string[] };
  },
): string[] {
  const config = unknownKeys(envOf(objects)).config;
  // A role's Deployments: one each, but the orders worker's one per version (workers.orders.versions).
  const workloads = (role: string) =>
    role === 'migrate' || role === 'register-search-attributes'
      ? [`${FULL}-${role}`]
      : deployments(objects)
          .filter((d) => roleOf(d) === role)
          .map((d) => d.metadata.name);
  const paths: string[] = [];
  const codec = opts.codec ?? { auth: 'none', from: [] };
  for (const [role, base] of Object.entries(NEEDS)) {
    const needs =
      role === 'codec-server' && codec.auth === 'token' ? { ...base, calls: ['api users'] } : base;
    for (const self of workloads(role)) {
      paths.push(`${self} -> kube-dns:53/UDP`, `${self} -> kube-dns:53/TCP`);
      for (const store of needs.stores) paths.push(`${self} -> ${store}:${STORE_PORTS[store]}/TCP`);
      if (needs.temporal) paths.push(`${self} -> ${opts.temporal}:7233/TCP`);
      if (opts.kafka && needs.events) paths.push(`${self} -> kafka:9092/TCP`);
      if (opts.otel) paths.push(`${self} -> jaeger:4317/TCP`);
      if (opts.istio) paths.push(`${self} -> istiod:15012/TCP`);
      for (const called of needs.calls)
        for (const other of workloads(called))
          paths.push(`${self} -> ${other}:${rolePort(config, called)}/TCP`);
      if (ROLES.includes(role)) paths.push(`prometheus -> ${self}:${rolePort(config, role)}/TCP`);
      if (role === 'api gateway') paths.push(`ingress-controller -> ${self}:${rolePort(config, role)}/TCP`);
      // Not even Prometheus: it decodes card tokens and emails. Operators come through a port-forward.
      if (role === 'codec-server')
        for (const peer of codec.from) paths.push(`${peer} -> ${self}:${rolePort(config, role)}/TCP`);
    }
  }
  return paths.sort();
}

let plain: string;
let all: string;
beforeAll(async () => {
  [plain, all] = await Promise.all([template(), template(['-f', ALL])]);
});

describe('helm lint and helm template', () => {
  it('lint the chart with the default values and with every feature on', async () => {
    for (const args of [[], ['-f', ALL]]) {
      const res = await run(tools().helm, ['lint', '--strict', join(root, CHART), ...args]);
      expect(res.stdout + res.stderr, args.join(' ')).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(res.code).toBe(0);
    }
  });

  it('fails lint on a broken copy of the chart', async () => {
    const dir = brokenCopy([CHART], (d) =>
      replaceIn(join(d, CHART, 'templates/ingress.yaml'), '{{- end }}\n', ''),
    );
    copies.push(dir);
    const res = await run(tools().helm, ['lint', join(dir, CHART), '-f', ALL]);
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/ingress\.yaml.*unexpected EOF/);
  });
});

describe('the Temporal versions', () => {
  it('are the ones the tests run (scripts/tools.ts), in Chart.yaml, its NOTES and the README', () => {
    const chart = parse(read(`${CHART}/Chart.yaml`)) as { annotations: Record<string, string> };
    const server = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    const ui = TEMPORAL_UI_VERSION.replace(/^v/, '');
    expect(chart.annotations['ordersaga.io/temporal-server-version']).toBe(server);
    expect(chart.annotations['ordersaga.io/temporal-ui-version']).toBe(ui);
    expect(read(`${CHART}/templates/NOTES.txt`)).toContain('ordersaga.io/temporal-server-version');
    const readme = read('README.md');
    expect(readme).toContain(`server.image.tag=${server}`);
    expect(readme).toContain(`admintools.image.tag=${server}`);
    expect(readme).toContain(`web.image.tag=${ui}`);
  });
});

describe('the values schema (values.schema.json)', () => {
  it('refuses a misspelled value and a Temporal address without a port', async () => {
    await expect(template(['--set', 'ingres.enabled=true'])).rejects.toThrow(
      /additional properties 'ingres' not allowed/,
    );
    await expect(template(['--set', 'temporal.address=temporal-frontend'])).rejects.toThrow(
      /'\/temporal\/address': 'temporal-frontend' does not match pattern/,
    );
  });
});

describe('the rendered objects, decoded strictly into their Kubernetes types and cross-checked', () => {
  it('pass with the default values and with every feature on', async () => {
    const defaults = await check(plain);
    expect(defaults.objects).toContain(`Deployment/${FULL}-gateway`);
    const everything = await check(all, EXTERNAL_SECRETS);
    for (const kind of [
      'Ingress',
      'ServiceMonitor',
      'PeerAuthentication',
      'HorizontalPodAutoscaler',
      'NetworkPolicy',
    ])
      expect(
        everything.objects.some((o) => o.startsWith(`${kind}/`)),
        kind,
      ).toBe(true);
  });

  it('fail on a misspelled field, a wrong probe or Service port, a missing Secret, a selector that selects nothing', async () => {
    await expect(check(plain.replace('containerPort: 3003', 'containerport: 3003'))).rejects.toThrow(
      /Deployment shop-ordersaga-orders-api: .*unknown field "spec\.template\.spec\.containers\[0\]\.ports\[0\]\.containerport"/,
    );
    const probe = brokenCopy([CHART], (d) =>
      replaceIn(
        join(d, CHART, 'templates/deployments.yaml'),
        'path: /ready\n              port: {{ $portName }}',
        'path: /ready\n              port: web',
      ),
    );
    copies.push(probe);
    await expect(check(await template([], join(probe, CHART)))).rejects.toThrow(
      /Deployment\/shop-ordersaga-gateway container gateway: readinessProbe port web is not a port of the container/,
    );
    const servicePort = brokenCopy([CHART], (d) =>
      replaceIn(join(d, CHART, 'templates/deployments.yaml'), 'targetPort: http', 'targetPort: 8080'),
    );
    copies.push(servicePort);
    await expect(check(await template([], join(servicePort, CHART)))).rejects.toThrow(
      /Service\/shop-ordersaga-users-api: targetPort 8080 is not a port of Deployment\/shop-ordersaga-users-api/,
    );
    await expect(check(all)).rejects.toThrow(/envFrom Secret ordersaga-secrets is not rendered/);
    await expect(
      check(
        plain
          .replaceAll(
            'app.kubernetes.io/name: orders-worker\n  policyTypes',
            'app.kubernetes.io/name: order-worker\n  policyTypes',
          )
          .replace(
            /(kind: PodDisruptionBudget[\s\S]*?app\.kubernetes\.io\/name: )orders-worker/,
            '$1order-worker',
          ),
      ),
    ).rejects.toThrow(
      /PodDisruptionBudget\/shop-ordersaga-orders-worker: selector matches no Deployment's pods/,
    );
  });
});

describe('alert rules and dashboards passed as files', () => {
  /** A rule file and a dashboard as deploy/observability holds them (the observability work owns the real ones). */
  const files = (rule: string) =>
    brokenCopy([], (d) => {
      writeFileSync(
        join(d, 'alerts.yml'),
        `groups:\n  - name: ordersaga\n    rules:\n      - alert: OrderSagaTargetDown\n        ${rule}: up{job="ordersaga-api"} == 0\n        for: 5m\n`,
      );
      writeFileSync(join(d, 'orders.json'), JSON.stringify({ title: 'Orders', panels: [] }));
    });

  it('become a PrometheusRule and a ConfigMap for Grafana’s sidecar, decoded strictly', async () => {
    const dir = files('expr');
    copies.push(dir);
    const args = [
      '--set-file',
      `prometheusRules.ordersaga=${join(dir, 'alerts.yml')}`,
      '--set-file',
      `grafanaDashboards.orders=${join(dir, 'orders.json')}`,
    ];
    const rendered = await template(args);
    const { objects } = await check(rendered);
    expect(objects).toContain(`PrometheusRule/${FULL}-ordersaga`);
    const dashboards = find(objectsOf(rendered), 'ConfigMap', `${FULL}-dashboards`)!;
    expect(JSON.parse(dashboards.data!['orders.json']!)).toEqual({ title: 'Orders', panels: [] });

    const broken = files('exprr');
    copies.push(broken);
    await expect(
      check(await template(['--set-file', `prometheusRules.ordersaga=${join(broken, 'alerts.yml')}`])),
    ).rejects.toThrow(
      /PrometheusRule shop-ordersaga-ordersaga: unknown field "spec\.groups\[0\]\.rules\[0\]\.exprr"/,
    );
  });
});

describe('the NetworkPolicies', () => {
  it('admit exactly the paths the system needs, with the default values', async () => {
    const { reachable } = await check(plain);
    expect(reachable).toEqual(neededPaths(objectsOf(plain), { temporal: 'temporal-frontend', otel: false }));
  });

  it('admit exactly the paths the system needs with every feature on (Temporal Cloud, tracing, Istio, Kafka)', async () => {
    const { reachable } = await check(all, EXTERNAL_SECRETS);
    expect(reachable).toEqual(
      neededPaths(objectsOf(all), {
        temporal: 'temporal-cloud',
        otel: true,
        istio: true,
        kafka: true,
        codec: { auth: 'token', from: ['vpn-gateway'] },
      }),
    );
  });

  it('let nothing else in: a policy opened too wide shows as paths nobody needs', async () => {
    const dir = brokenCopy([CHART], (d) =>
      replaceIn(
        join(d, CHART, 'templates/networkpolicies.yaml'),
        '    - from:\n        {{- toYaml $np.ingressController | nindent 8 }}',
        '    - from: []',
      ),
    );
    copies.push(dir);
    const rendered = await template([], join(dir, CHART));
    const { reachable } = await check(rendered);
    const needed = neededPaths(objectsOf(rendered), { temporal: 'temporal-frontend', otel: false });
    expect(reachable.filter((p) => !needed.includes(p)).sort()).toEqual(
      [
        'stranger-elsewhere -> shop-ordersaga-gateway:8080/TCP',
        'stranger-in-namespace -> shop-ordersaga-gateway:8080/TCP',
        'kube-dns -> shop-ordersaga-gateway:8080/TCP',
        'temporal-frontend -> shop-ordersaga-gateway:8080/TCP',
        'temporal-cloud -> shop-ordersaga-gateway:8080/TCP',
        'postgresql -> shop-ordersaga-gateway:8080/TCP',
        'mongodb -> shop-ordersaga-gateway:8080/TCP',
        'redis -> shop-ordersaga-gateway:8080/TCP',
        'kafka -> shop-ordersaga-gateway:8080/TCP',
        'jaeger -> shop-ordersaga-gateway:8080/TCP',
        'istiod -> shop-ordersaga-gateway:8080/TCP',
        'vpn-gateway -> shop-ordersaga-gateway:8080/TCP',
      ].sort(),
    );
  });
});

describe('the rendered configuration', () => {
  it('is one the config schema accepts and fully knows, for the processes and the hooks', () => {
    for (const rendered of [plain, all]) {
      const objects = objectsOf(rendered);
      for (const hooks of [false, true]) {
        const env = envOf(objects, hooks);
        if (rendered === all) Object.assign(env, { ADMIN_PASSWORD: 'from-the-external-secret' });
        const { config, unknown } = unknownKeys(env);
        expect(unknown).toEqual([]);
        expect(config.BIND_HOST).toBe('0.0.0.0');
        for (const [svc, url] of Object.entries(config.serviceUrls)) {
          const service = find(objects, 'Service', new URL(url).hostname);
          expect(service, url).toBeDefined();
          expect(
            deployments(objects).find(
              (d) => d.metadata.name === service!.metadata.name && roleOf(d) === `api ${svc}`,
            ),
            url,
          ).toBeDefined();
        }
      }
    }
  });

  it('deploys every role of main.ts with /health startup and liveness and /ready readiness on its port', () => {
    const objects = objectsOf(plain);
    const config = unknownKeys(envOf(objects)).config;
    expect(deployments(objects).map(roleOf).sort()).toEqual([...ROLES, 'codec-server'].sort());
    for (const d of deployments(objects)) {
      const c = podSpec(d)!.containers[0]!;
      const port = c.ports?.find((p) => p.name === c.livenessProbe?.httpGet?.port);
      expect(port?.containerPort, roleOf(d)).toBe(rolePort(config, roleOf(d)));
      expect(c.startupProbe?.httpGet, roleOf(d)).toEqual({ path: '/health', port: port?.name });
      expect(c.livenessProbe?.httpGet?.path, roleOf(d)).toBe('/health');
      expect(c.readinessProbe?.httpGet, roleOf(d)).toEqual({ path: '/ready', port: port?.name });
    }
  });

  it('runs every container non-root on a read-only root filesystem with /tmp an emptyDir, capabilities dropped', () => {
    for (const o of objectsOf(all).filter((o) => podSpec(o))) {
      const spec = podSpec(o)!;
      expect(spec.securityContext?.runAsNonRoot, o.metadata.name).toBe(true);
      expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(spec.serviceAccountName).toBe(FULL);
      expect(spec.volumes?.find((v) => v.name === 'tmp')?.emptyDir).toBeDefined();
      for (const c of spec.containers) {
        expect(c.securityContext, o.metadata.name).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.volumeMounts?.find((m) => m.name === 'tmp')?.mountPath).toBe('/tmp');
        expect(c.resources?.requests && c.resources.limits, o.metadata.name).toBeTruthy();
      }
    }
  });

  it('rolls the pods when the configuration or the Secret changes', async () => {
    const checksums = (rendered: string) =>
      deployments(objectsOf(rendered)).map((d) => d.spec?.template?.metadata?.annotations ?? {});
    const before = checksums(plain);
    const config = checksums(await template(['--set', 'config.LOG_LEVEL=debug']));
    const secret = checksums(await template(['--set', 'secrets.values.ADMIN_PASSWORD=another-password']));
    for (const [i, b] of before.entries()) {
      expect(config[i]!['checksum/config']).not.toBe(b['checksum/config']);
      expect(secret[i]!['checksum/secret']).not.toBe(b['checksum/secret']);
      expect(secret[i]!['checksum/config']).toBe(b['checksum/config']);
    }
  });

  it('migrates, seeds and registers the search attributes in hooks before install and upgrade', () => {
    const objects = objectsOf(plain);
    const migrate = find(objects, 'Job', `${FULL}-migrate`)!;
    const register = find(objects, 'Job', `${FULL}-register-search-attributes`)!;
    for (const job of [migrate, register]) {
      expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
      // A hook runs before the release's own objects exist: it reads the hook copies, made just before it.
      const refs = podSpec(job)!.containers[0]!.envFrom!.map(
        (e) => e.configMapRef?.name ?? e.secretRef?.name,
      );
      expect(refs).toEqual([`${FULL}-hooks-config`, `${FULL}-hooks-secrets`]);
      for (const name of refs) {
        const copy = objects.find((o) => o.metadata.name === name)!;
        expect(Number(copy.metadata.annotations?.['helm.sh/hook-weight'])).toBeLessThan(
          Number(job.metadata.annotations?.['helm.sh/hook-weight']),
        );
      }
    }
    expect(podSpec(migrate)!.containers[0]!.args?.join(' ')).toMatch(/main\.js migrate && .*main\.js seed/);
    expect(podSpec(register)!.containers[0]!.args).toEqual(['register-search-attributes']);
    for (const name of SEARCH_ATTRIBUTES) expect(plain).not.toContain(name);
  });

  it('traces only when an OTLP endpoint is given, over the protocol its port speaks (lib/tracing reads them)', () => {
    expect(tracingWanted(envOf(objectsOf(plain)))).toBe(false);
    const env = envOf(objectsOf(all));
    expect(tracingWanted(env)).toBe(true);
    const port = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!).port;
    // The NetworkPolicies open 4317 (gRPC) to the collector; the SDK's default protocol would be HTTP.
    expect([port, env.OTEL_EXPORTER_OTLP_PROTOCOL]).toEqual(['4317', 'grpc']);
    expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
  });

  it('connects to a secured Temporal from values: TLS, the client certificate from a Secret, an API key', () => {
    const objects = objectsOf(all);
    const env = { ...envOf(objects), ADMIN_PASSWORD: 'from-the-external-secret' };
    expect(env).toMatchObject({
      TEMPORAL_ADDRESS: 'ordersaga.a1b2c.tmprl.cloud:7233',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'ordersaga.a1b2c.tmprl.cloud',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/etc/ordersaga/temporal-tls/tls.crt',
      TEMPORAL_TLS_CLIENT_KEY_PATH: '/etc/ordersaga/temporal-tls/tls.key',
    });
    expect(env).not.toHaveProperty('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    for (const o of objects.filter((o) => podSpec(o))) {
      const spec = podSpec(o)!;
      expect(spec.volumes?.find((v) => v.name === 'temporal-tls')?.secret?.secretName).toBe(
        'temporal-client-tls',
      );
      const c = spec.containers[0]!;
      expect(c.volumeMounts?.find((m) => m.name === 'temporal-tls')?.mountPath).toBe(
        '/etc/ordersaga/temporal-tls',
      );
      expect(c.env?.find((e) => e.name === 'TEMPORAL_API_KEY')?.valueFrom?.secretKeyRef).toEqual({
        name: 'temporal-api-key',
        key: 'api-key',
      });
    }
  });

  it("has the gateway trust X-Forwarded-For from trustedProxies only: nobody's by default, the ingress controller's pods when given", async () => {
    const defaults = envOf(objectsOf(plain));
    expect(defaults).not.toHaveProperty('TRUSTED_PROXIES');
    expect(unknownKeys(defaults).config.TRUSTED_PROXIES).toEqual([]);
    for (const hooks of [false, true]) {
      const env = { ...envOf(objectsOf(all), hooks), ADMIN_PASSWORD: 'from-the-external-secret' };
      expect(unknownKeys(env).config.TRUSTED_PROXIES).toEqual([
        '10.244.0.0/16',
        'fd00:10:244::/56',
        '127.0.0.6',
      ]);
    }
    const given = envOf(objectsOf(await template(['--set-json', 'trustedProxies=["10.0.0.0/8"]'])));
    expect(unknownKeys(given).config.TRUSTED_PROXIES).toEqual(['10.0.0.0/8']);
    await expect(template(['--set-json', 'trustedProxies=["ingress-nginx"]'])).rejects.toThrow(
      /'\/trustedProxies\/0': 'ingress-nginx' does not match pattern/,
    );
  });

  it('scales the workers on their task queue backlog when asked, each on its own queue', () => {
    const objects = objectsOf(all);
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    const queueOf = (d: K8sObject) => {
      const [targeting, ...more] = hpas.filter((h) => h.spec?.scaleTargetRef?.name === d.metadata.name);
      expect(more, d.metadata.name).toEqual([]);
      return targeting?.spec?.metrics?.[0]?.external?.metric.selector.matchLabels.task_queue;
    };
    const workers = deployments(objects).filter((d) => roleOf(d).startsWith('worker '));
    // values-all runs the orders worker as two versions: a Deployment, and an HPA, each.
    expect(workers).toHaveLength(6);
    for (const d of workers)
      expect(queueOf(d), d.metadata.name).toBe(TASK_QUEUES[roleOf(d).split(' ')[1] as ServiceName]);
  });
});

describe('the codec endpoint for the Web UI', () => {
  const codecEnv = (rendered: string) => {
    const env = envOf(objectsOf(rendered));
    return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('DATABASE_URL')));
  };

  it('is reached by nobody in the cluster, Prometheus included, unless allowFrom names a peer', async () => {
    const dir = brokenCopy([CHART], (d) =>
      replaceIn(
        join(d, CHART, 'templates/networkpolicies.yaml'),
        '{{- else if eq $role.kind "codec" }}',
        '{{- else if eq $role.kind "codec-off" }}',
      ),
    );
    copies.push(dir);
    const rendered = await template([], join(dir, CHART));
    const { reachable } = await check(rendered);
    const needed = neededPaths(objectsOf(rendered), { temporal: 'temporal-frontend', otel: false });
    expect(reachable.filter((p) => !needed.includes(p))).toEqual([
      `prometheus -> ${FULL}-codec-server:8089/TCP`,
    ]);
  });

  it('refuses allowFrom without a token, and an origin that is not one', async () => {
    await expect(template(['--set-json', 'codecServer.allowFrom=[{"podSelector":{}}]'])).rejects.toThrow(
      /codecServer\/allowFrom/,
    );
    await expect(
      template(['--set-json', 'codecServer.corsOrigins=["temporal.example.com"]']),
    ).rejects.toThrow(/codecServer\/corsOrigins\/0/);
  });

  it('answers the Web UI’s browser as rendered: a port-forwarded UI by default, no token; values-all asks for one', async () => {
    const plainCodec = await startCodecServer(codecEnv(plain));
    try {
      expect(await asTheWebUi(plainCodec.url, 'http://localhost:8080')).toEqual({
        preflight: 204,
        allowOrigin: 'http://localhost:8080',
        allowHeaders: expect.stringContaining('x-namespace'),
        decode: 200,
        decodeAllowOrigin: 'http://localhost:8080',
      });
    } finally {
      await plainCodec.stop();
    }
    const allCodec = await startCodecServer(codecEnv(all));
    try {
      const ui = await asTheWebUi(allCodec.url, 'https://temporal.example.com');
      expect(ui).toMatchObject({ preflight: 204, allowOrigin: 'https://temporal.example.com', decode: 401 });
    } finally {
      await allCodec.stop();
    }
  });

  it('can be left out: no Deployment, no policy, no settings', async () => {
    const rendered = await template(['--set', 'codecServer.enabled=false']);
    expect(rendered).not.toContain('codec-server');
    expect(rendered).not.toContain('CODEC_');
    await check(rendered);
  });
});

describe('the orders worker by version (workers.orders.versions), for a Worker Versioning rollout', () => {
  const V1 = 'saga-8d41a2c07e5b';
  const V2 = 'saga-2f6c1e0b9a7d';
  /** Mid-rollout: v1 on its own image and one replica, v2 from another registry. */
  const VERSIONS = [
    { buildId: V1, image: { tag: '0.1.0' }, replicas: 1 },
    { buildId: V2, image: { repository: 'registry.example.com/ordersaga', tag: '0.2.0' } },
  ];
  const rollout = (current: string, versions: object[] = VERSIONS) => [
    '--set-json',
    `workers.orders.versions=${JSON.stringify(versions)}`,
    '--set',
    `workers.orders.current=${current}`,
  ];
  const ordersWorkers = (objects: K8sObject[]) =>
    deployments(objects).filter((d) => roleOf(d) === 'worker orders');
  const ownEnv = (d: K8sObject) =>
    Object.fromEntries(
      (podSpec(d)!.containers[0]!.env ?? []).flatMap((e) =>
        e.value === undefined ? [] : [[e.name, e.value]],
      ),
    ) as Record<string, string>;
  const byBuildId = (objects: K8sObject[]): Record<string, K8sObject> =>
    Object.fromEntries(ordersWorkers(objects).map((d) => [ownEnv(d).WORKER_BUILD_ID, d]));

  let versioned: string;
  beforeAll(async () => {
    versioned = await template(rollout(V2));
  });

  it('deploys each version beside the others: its own Deployment, pods, image and build id', async () => {
    const objects = objectsOf(versioned);
    const workers = byBuildId(objects);
    expect(Object.keys(workers).sort()).toEqual([V1, V2].sort());
    expect(find(objects, 'Deployment', `${FULL}-orders-worker`)).toBeUndefined();
    for (const [id, d] of Object.entries(workers)) {
      expect(d.metadata.name).toBe(`${FULL}-orders-worker-${id}`);
      expect(d.spec?.selector?.matchLabels).toEqual({
        'app.kubernetes.io/instance': RELEASE,
        'app.kubernetes.io/name': 'orders-worker',
        'temporal.io/build-id': id,
      });
      expect(podLabels(d)).toMatchObject({ 'temporal.io/deployment-name': 'ordersaga' });
      for (const other of Object.values(workers))
        expect(selects(d.spec?.selector, podLabels(other)), `${id} picks ${other.metadata.name}`).toBe(
          other === d,
        );
      // What the worker reads, through lib/config.ts: this version of the deployment the CLI names.
      const { config, unknown } = unknownKeys({ ...envOf(objects), ...ownEnv(d) });
      expect(unknown).toEqual([]);
      expect([config.WORKER_VERSIONING, config.WORKER_DEPLOYMENT_NAME, config.WORKER_BUILD_ID]).toEqual([
        'on',
        'ordersaga',
        id,
      ]);
    }
    expect(podSpec(workers[V1])!.containers[0]!.image).toBe('ordersaga:0.1.0');
    expect(podSpec(workers[V2])!.containers[0]!.image).toBe('registry.example.com/ordersaga:0.2.0');
    expect([workers[V1]!.spec?.replicas, workers[V2]!.spec?.replicas]).toEqual([1, 2]);
    await check(versioned);
  });

  it('has only the version `current` names make itself current; the others wait (WORKER_PROMOTE)', async () => {
    for (const [current, rendered] of [
      [V2, versioned],
      [V1, await template(rollout(V1))],
    ] as const) {
      const workers = byBuildId(objectsOf(rendered));
      for (const [id, d] of Object.entries(workers))
        expect(ownEnv(d).WORKER_PROMOTE, `${id}, ${current} current`).toBe(
          id === current ? 'auto' : 'manual',
        );
    }
  });

  it('keeps every version under the orders worker’s NetworkPolicy, Service and ServiceMonitor, each under one budget', async () => {
    const objects = objectsOf(versioned);
    const { reachable } = await check(versioned);
    expect(reachable).toEqual(neededPaths(objects, { temporal: 'temporal-frontend', otel: false }));
    const workers = ordersWorkers(objects);
    const service = find(objects, 'Service', `${FULL}-orders-worker`)!;
    for (const d of workers) {
      expect(reachable).toContain(`prometheus -> ${d.metadata.name}:9403/TCP`);
      expect(selects({ matchLabels: service.spec?.selector }, podLabels(d)), d.metadata.name).toBe(true);
    }
    // Kubernetes refuses to evict a pod that two budgets select: one budget per Deployment, its own.
    const budgets = objects.filter((o) => o.kind === 'PodDisruptionBudget');
    for (const d of deployments(objects))
      expect(
        budgets.filter((b) => selects(b.spec?.selector, podLabels(d))).map((b) => b.metadata.name),
        d.metadata.name,
      ).toEqual([d.metadata.name]);

    // values-all: Prometheus scrapes both versions, each series labelled with its build id.
    const everything = objectsOf(all);
    const monitor = find(everything, 'ServiceMonitor', `${FULL}-metrics`)!;
    expect(monitor.spec?.podTargetLabels).toEqual(['temporal.io/build-id']);
    const allService = find(everything, 'Service', `${FULL}-orders-worker`)!;
    expect(selects(monitor.spec?.selector, allService.metadata.labels)).toBe(true);
    expect(ordersWorkers(everything)).toHaveLength(2);
    for (const d of ordersWorkers(everything))
      expect(selects({ matchLabels: allService.spec?.selector }, podLabels(d))).toBe(true);
  });

  it('scales each version on its own backlog when autoscaling', () => {
    const objects = objectsOf(all);
    for (const [id, d] of Object.entries(byBuildId(objects))) {
      const hpa = objects.find(
        (o) => o.kind === 'HorizontalPodAutoscaler' && o.spec?.scaleTargetRef?.name === d.metadata.name,
      );
      expect(hpa?.spec?.metrics?.[0]?.external?.metric.selector.matchLabels).toEqual({
        task_queue: 'orders',
        namespace: 'ordersaga.a1b2c',
        worker_deployment_name: 'ordersaga',
        worker_build_id: id,
      });
    }
  });

  it('refuses a build id listed twice, a current not listed, a build id no Deployment can be named by, a version without its image tag, versions with Worker Versioning off or under another deployment name', async () => {
    const [v1, v2] = VERSIONS;
    // The same entry twice: the schema (uniqueItems). The same build id on two images: the templates, as no
    // JSON Schema keyword compares one field across the items of a list.
    await expect(template(rollout(V2, [v1!, v1!, v2!]))).rejects.toThrow(
      /'\/workers\/orders\/versions': items at 0 and 1 are equal/,
    );
    await expect(template(rollout(V2, [v1!, { ...v1!, image: { tag: '0.1.1' } }, v2!]))).rejects.toThrow(
      /workers\.orders\.versions: build id saga-8d41a2c07e5b is listed twice/,
    );
    await expect(template(rollout('saga-ffffffffffff'))).rejects.toThrow(
      /workers\.orders\.current: "saga-ffffffffffff" is not a build id of workers\.orders\.versions/,
    );
    await expect(template(rollout('', VERSIONS))).rejects.toThrow(/'\/workers\/orders\/current'/);
    await expect(template(rollout(V2, [{ ...v1!, buildId: 'Saga_1' }, v2!]))).rejects.toThrow(
      /'\/workers\/orders\/versions\/0\/buildId': 'Saga_1' does not match pattern/,
    );
    await expect(template(rollout(V2, [{ buildId: V1, image: {} }, v2!]))).rejects.toThrow(
      /'\/workers\/orders\/versions\/0\/image': missing property 'tag'/,
    );
    await expect(template([...rollout(V2), '--set', 'config.WORKER_VERSIONING=off'])).rejects.toThrow(
      /workers\.orders\.versions needs Worker Versioning: config\.WORKER_VERSIONING is off/,
    );
    // The single worker's deployment name, set through `config`, must not be left behind by its versions.
    await expect(template([...rollout(V2), '--set', 'config.WORKER_DEPLOYMENT_NAME=shop'])).rejects.toThrow(
      /config\.WORKER_DEPLOYMENT_NAME \(shop\) is not workers\.orders\.deploymentName \(ordersaga\)/,
    );
  });

  it('renders the one orders worker of before when no versions are given', async () => {
    const objects = objectsOf(plain);
    const [worker, ...more] = ordersWorkers(objects);
    expect(more).toEqual([]);
    expect(worker!.metadata.name).toBe(`${FULL}-orders-worker`);
    expect(worker!.spec?.selector?.matchLabels).toEqual({
      'app.kubernetes.io/instance': RELEASE,
      'app.kubernetes.io/name': 'orders-worker',
    });
    // No variables of its own: its build id is its image's workflow code, and it makes itself current.
    expect(podSpec(worker)!.containers[0]!.env).toBeUndefined();
    expect(podSpec(worker)!.containers[0]!.image).toBe('ordersaga:0.1.0');
    expect(find(objects, 'PodDisruptionBudget', `${FULL}-orders-worker`)).toBeDefined();
    expect(plain).not.toContain('temporal.io/');
    // Naming a current version before listing any changes nothing.
    expect(await template(['--set', `workers.orders.current=${V1}`])).toBe(plain);
  });
});

describe('Kafka for the events (events.transport, kafka.enabled, kafka.brokers)', () => {
  const IN_CHART = ['--set', 'events.transport=kafka', '--set', 'kafka.enabled=true'];
  /** The roles that open the event bus (NEEDS), as their Deployments are named. */
  const clients = Object.entries(NEEDS)
    .filter(([, n]) => n.events)
    .map(([role]) => role.split(' ').reverse().join('-').replace('gateway-api', 'gateway'));
  /** The release's pods a policy's rules admit (podSelector peers only), with the port. */
  const podPeers = (rules: Rule[] | undefined, side: 'to' | 'from', labels: (name: string) => Labels) =>
    (rules ?? []).flatMap((r) =>
      (r[side] ?? []).flatMap((p) =>
        p.podSelector ? [{ select: (n: string) => selects(p.podSelector, labels(n)), ports: r.ports }] : [],
      ),
    );

  it('renders no Kafka by default: events on Redis, no broker, no StatefulSet', () => {
    const objects = objectsOf(plain);
    expect(objects.filter((o) => o.kind === 'StatefulSet' || o.metadata.name.endsWith('-kafka'))).toEqual([]);
    for (const hooks of [false, true]) {
      const env = envOf(objects, hooks);
      expect(env.EVENTS_TRANSPORT).toBe('redis');
      expect(env).not.toHaveProperty('KAFKA_BROKERS');
      expect(unknownKeys(env).config.EVENTS_TRANSPORT).toBe('redis');
    }
  });

  it('with kafka.enabled runs one KRaft node in a StatefulSet with its volume, and points every process at it', async () => {
    const rendered = await template(IN_CHART);
    const lint = await run(tools().helm, ['lint', '--strict', join(root, CHART), ...IN_CHART]);
    expect(lint.stdout + lint.stderr).toContain('1 chart(s) linted, 0 chart(s) failed');
    const objects = objectsOf(rendered);
    const sts = find(objects, 'StatefulSet', `${FULL}-kafka`);
    const service = find(objects, 'Service', `${FULL}-kafka`);
    expect(sts).toBeDefined();
    const spec = podSpec(sts)!;
    const c = spec.containers[0]!;
    expect(c.image).toMatch(/^apache\/kafka:(3\.9|4\.\d+)\.\d+$/);
    const kenv = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? '']));
    expect(kenv.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(Object.keys(kenv).filter((k) => /ZOOKEEPER/.test(k))).toEqual([]);
    expect(sts!.spec?.replicas).toBe(1);
    // Its data on a claim of its own, where the broker writes it.
    const [claim] = sts!.spec?.volumeClaimTemplates ?? [];
    expect(c.volumeMounts?.find((m) => m.name === claim?.metadata.name)?.mountPath).toBe(kenv.KAFKA_LOG_DIRS);
    // Headless, naming the pod ready or not (its readiness probe dials the address it advertises).
    expect(service?.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(sts!.spec?.serviceName).toBe(service!.metadata.name);
    expect(selects({ matchLabels: service!.spec?.selector }, podLabels(sts!))).toBe(true);
    const pod = `${sts!.metadata.name}-0.${service!.metadata.name}.${NAMESPACE}.svc:9092`;
    expect(kenv.KAFKA_ADVERTISED_LISTENERS).toBe(`PLAINTEXT://${pod}`);
    for (const hooks of [false, true]) {
      const { config, unknown } = unknownKeys(envOf(objects, hooks));
      expect(unknown).toEqual([]);
      expect([config.EVENTS_TRANSPORT, config.KAFKA_BROKERS]).toEqual(['kafka', [pod]]);
    }
    expect(spec.securityContext?.runAsNonRoot).toBe(true);
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it('with kafka.enabled lets exactly the processes that open the event bus reach the node', async () => {
    const objects = objectsOf(await template(IN_CHART));
    const kafkaPods = podLabels(find(objects, 'StatefulSet', `${FULL}-kafka`)!)!;
    const labelsOf = (name: string) =>
      name === 'kafka' ? kafkaPods : podLabels(find(objects, 'Deployment', `${FULL}-${name}`)!)!;
    const policy = find(objects, 'NetworkPolicy', `${FULL}-kafka`)!;
    const from = podPeers(policy.spec?.ingress, 'from', labelsOf);
    const deploymentNames = deployments(objects).map((d) => d.metadata.name.replace(`${FULL}-`, ''));
    expect(
      [...deploymentNames, 'kafka']
        .filter((n) => from.some((p) => p.select(n) && p.ports?.[0]?.port === 9092))
        .sort(),
    ).toEqual([...clients, 'kafka'].sort());
    for (const name of deploymentNames) {
      const egress = podPeers(
        find(objects, 'NetworkPolicy', `${FULL}-${name}`)!.spec?.egress,
        'to',
        () => kafkaPods,
      );
      expect(
        egress.some((p) => p.select('kafka') && p.ports?.[0]?.port === 9092),
        name,
      ).toBe(clients.includes(name));
    }
  });

  it('with kafka.brokers sends the events to that cluster, through networkPolicy.kafka, with no broker of its own', async () => {
    const rendered = await template([
      '--set',
      'events.transport=kafka',
      '--set',
      'kafka.brokers=b1:9092\\,b2:9092',
    ]);
    const objects = objectsOf(rendered);
    expect(objects.filter((o) => o.kind === 'StatefulSet')).toEqual([]);
    expect(unknownKeys(envOf(objects)).config.KAFKA_BROKERS).toEqual(['b1:9092', 'b2:9092']);
    const { reachable } = await check(rendered);
    expect(reachable).toEqual(
      neededPaths(objects, { temporal: 'temporal-frontend', otel: false, kafka: true }),
    );
  });

  it('refuses events on Kafka with no broker, the variables set through `config`, and a broker without its port', async () => {
    await expect(template(['--set', 'events.transport=kafka'])).rejects.toThrow(
      /events\.transport is kafka but no broker is given: set kafka\.enabled=true .* or kafka\.brokers/,
    );
    await expect(template(['--set', 'config.EVENTS_TRANSPORT=kafka'])).rejects.toThrow(
      /config\.EVENTS_TRANSPORT: set events\.transport, kafka\.enabled or kafka\.brokers instead/,
    );
    await expect(template(['--set', 'kafka.brokers=b1'])).rejects.toThrow(
      /'\/kafka\/brokers': 'b1' does not match pattern/,
    );
    await expect(template(['--set', 'events.transport=nats'])).rejects.toThrow(/\/events\/transport/);
  });
});
