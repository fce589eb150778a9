/**
 * docker-compose.yml as Docker Compose reads it: loaded by the compose-spec loader (tools/deploy-check), then
 * checked against the code (main.ts roles, lib/config.ts) and the configuration files it mounts.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { ServiceName } from '../../contracts/index.js';
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
import { loadConfig } from '../../lib/config.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from '../../scripts/tools.js';
import { tracingWanted } from '../../lib/tracing/index.js';

interface Port {
  host_ip?: string;
  target: number;
  published?: string;
}
interface Service {
  image?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  healthcheck?: { test?: string[] };
  ports?: Port[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  deploy?: { replicas?: number };
  read_only?: boolean;
  tmpfs?: string[];
  restart?: string;
  volumes?: { type: string; source: string; target: string }[];
  networks?: Record<string, unknown>;
}
interface Project {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string }[] } }>;
}

/** What a copy needs to load: the file, the files it mounts and builds from, the example .env. */
const COMPOSE_FILES = ['docker-compose.yml', 'Dockerfile', 'deploy', '.env.example'];
const copies: string[] = [];
afterAll(() => copies.forEach(removeCopy));

/** `docker compose config`, by the compose-spec loader: the normalized project, or the loader's complaint. */
async function load(args: string[] = [], cwd = root): Promise<Project> {
  const res = await run(tools().deployCheck, ['compose', '--file', 'docker-compose.yml', ...args], cwd);
  if (res.code !== 0) throw new Error(res.stderr.trim());
  return JSON.parse(res.stdout) as Project;
}

const isApp = (s: Service) => s.image?.startsWith('ordersaga') ?? false;
const env = (s: Service) =>
  Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? '']));
const published = (p: Project) =>
  Object.entries(p.services)
    .flatMap(([name, s]) =>
      (s.ports ?? []).map((port) => `${name} ${port.host_ip}:${port.published}->${port.target}`),
    )
    .sort();

/** The cross-checks of the project against the code; an empty list when all hold. */
function problems(project: Project): string[] {
  const out: string[] = [];
  const services = project.services;
  for (const role of ROLES) {
    const found = Object.entries(services).filter(([, s]) => isApp(s) && s.command?.join(' ') === role);
    if (found.length !== 1) {
      out.push(`${role}: run by ${found.length} services`);
      continue;
    }
    const [name, service] = found[0]!;
    const port = rolePort(loadConfig(env(service)), role);
    const test = service.healthcheck?.test?.join(' ') ?? '';
    if (!test.includes(`http://127.0.0.1:${port}/ready`))
      out.push(`${name}: healthcheck is not /ready on ${port}`);
  }
  for (const [name, service] of Object.entries(services).filter(([, s]) => isApp(s))) {
    const { config, unknown } = unknownKeys(env(service));
    if (unknown.length) out.push(`${name}: variables lib/config.ts does not know: ${unknown.join(', ')}`);
    if (!service.read_only || !service.tmpfs?.includes('/tmp'))
      out.push(`${name}: not read-only with a /tmp tmpfs`);
    for (const [svc, url] of Object.entries(config.serviceUrls)) {
      const target = new URL(url);
      if (services[target.hostname]?.command?.join(' ') !== `api ${svc}`)
        out.push(`${name}: ${url} is not the service running api ${svc}`);
      if (Number(target.port) !== config.servicePorts[svc as ServiceName])
        out.push(`${name}: ${url} is not on the ${svc} API's port`);
    }
  }
  return out;
}

describe('docker-compose.yml, loaded by the compose-spec loader', () => {
  it('loads, alone and with .env.example and the observability profile', async () => {
    const plain = await load();
    const full = await load(['--env-file', '.env.example', '--profile', 'observability']);
    const observability = ['elasticsearch', 'filebeat', 'grafana', 'jaeger', 'kibana', 'prometheus'];
    expect(Object.keys(plain.services)).not.toContain('prometheus');
    expect(Object.keys(full.services).sort()).toEqual(
      [...Object.keys(plain.services), ...observability].sort(),
    );
  });

  it('runs the next version of the orders worker beside the current one in the rollout profile, made current by hand', async () => {
    const plain = await load();
    const { services } = await load(['--profile', 'rollout']);
    expect(Object.keys(plain.services)).not.toContain('orders-worker-next');
    const current = services['orders-worker']!;
    const next = services['orders-worker-next']!;
    expect(next.command).toEqual(current.command);
    expect(env(next).WORKER_DEPLOYMENT_NAME).toBe(env(current).WORKER_DEPLOYMENT_NAME);
    expect(env(current).WORKER_PROMOTE).toBe('auto');
    expect(env(next).WORKER_PROMOTE).toBe('manual');
    expect(unknownKeys(env(next)).unknown).toEqual([]);
    const port = rolePort(loadConfig(env(next)), 'worker orders');
    expect(next.healthcheck?.test?.join(' ')).toContain(`http://127.0.0.1:${port}/ready`);
    expect(next.read_only).toBe(true);
  });

  it('runs every role of main.ts with its /ready healthcheck, and gives each process a configuration lib/config.ts accepts and fully knows', async () => {
    expect(ROLES).toHaveLength(11);
    expect(problems(await load())).toEqual([]);
  });

  it('fails a broken copy: a misspelled field, a missing mounted file, a wrong healthcheck port', async () => {
    const misspelled = brokenCopy(COMPOSE_FILES, (dir) =>
      replaceIn(join(dir, 'docker-compose.yml'), 'read_only: true', 'readonly: true'),
    );
    copies.push(misspelled);
    await expect(load([], misspelled)).rejects.toThrow(/readonly/);

    const missing = brokenCopy(COMPOSE_FILES, (dir) => rmSync(join(dir, 'deploy/nginx/nginx.conf')));
    copies.push(missing);
    await expect(load([], missing)).rejects.toThrow(
      /load-balancer: bind mount source .*nginx\.conf does not exist/,
    );

    const wrongPort = brokenCopy(COMPOSE_FILES, (dir) =>
      replaceIn(
        join(dir, 'docker-compose.yml'),
        'http://127.0.0.1:9403/ready',
        'http://127.0.0.1:9430/ready',
      ),
    );
    copies.push(wrongPort);
    expect(problems(await load([], wrongPort))).toEqual(['orders-worker: healthcheck is not /ready on 9403']);
  });

  it('migrates then seeds in a one-shot job before any process starts', async () => {
    const { services } = await load();
    expect(services.migrate?.entrypoint?.join(' ')).toMatch(/main\.js migrate && .*main\.js seed/);
    for (const [name, s] of Object.entries(services).filter(
      ([n, s]) => isApp(s) && s.command?.[0] !== 'register-search-attributes' && n !== 'migrate',
    ))
      expect(s.depends_on?.migrate?.condition, name).toBe('service_completed_successfully');
  });

  it('sets Temporal up as its samples-server layout does: schema job, server, namespace job, then the search attributes', async () => {
    const { services } = await load();
    expect(services.temporal?.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(Object.values(services).map((s) => s.image)).not.toContainEqual(
      expect.stringMatching(/auto-setup/),
    );
    const after = (name: string) =>
      Object.entries(services[name]?.depends_on ?? {}).map(([n, d]) => `${n}:${d.condition}`);
    expect(after('temporal')).toContain('temporal-admin-tools:service_completed_successfully');
    expect(after('temporal-create-namespace')).toContain('temporal:service_healthy');
    expect(after('register-search-attributes')).toEqual([
      'temporal-create-namespace:service_completed_successfully',
    ]);
    for (const job of ['temporal-admin-tools', 'temporal-create-namespace', 'register-search-attributes'])
      expect(services[job]?.restart, job).toMatch(/^on-failure/);
    // The registration is the image's own role, reading temporal-config/search-attributes.json.
    expect(services['register-search-attributes']?.command).toEqual(['register-search-attributes']);
    for (const name of SEARCH_ATTRIBUTES) expect(read('docker-compose.yml')).not.toContain(name);
  });

  it('runs the Temporal server, admin-tools and Web UI versions the local stack and the tests run', async () => {
    const { services } = await load();
    const server = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
    const ui = TEMPORAL_UI_VERSION.replace(/^v/, '');
    expect(services.temporal?.image).toBe(`temporalio/server:${server}`);
    for (const job of ['temporal-admin-tools', 'temporal-create-namespace'])
      expect(services[job]?.image, job).toBe(`temporalio/admin-tools:${server}`);
    expect(services['temporal-ui']?.image).toBe(`temporalio/ui:${ui}`);
    // .env.example, copied to .env, says the same.
    const example = read('.env.example');
    expect(example).toMatch(new RegExp(`^TEMPORAL_VERSION=${server.replace(/\./g, '\\.')}$`, 'm'));
    expect(example).toMatch(new RegExp(`^TEMPORAL_UI_VERSION=${ui.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('publishes only the load balancer, Temporal and the UIs, on 127.0.0.1 unless .env says otherwise', async () => {
    expect(published(await load())).toEqual([
      'codec-server 127.0.0.1:8089->8089',
      'load-balancer 127.0.0.1:8080->8080',
      'temporal 127.0.0.1:7233->7233',
      'temporal-ui 127.0.0.1:8233->8080',
    ]);
    const dir = brokenCopy(COMPOSE_FILES, (d) => {
      replaceIn(join(d, '.env.example'), 'BIND_ADDRESS=127.0.0.1', 'BIND_ADDRESS=0.0.0.0');
      replaceIn(join(d, '.env.example'), 'ORDERSAGA_HTTP_PORT=8080', 'ORDERSAGA_HTTP_PORT=18080');
      replaceIn(join(d, '.env.example'), 'GRAFANA_PORT=3000', 'GRAFANA_PORT=13000');
    });
    copies.push(dir);
    const moved = published(await load(['--env-file', '.env.example', '--profile', 'observability'], dir));
    expect(moved).toContain('load-balancer 0.0.0.0:18080->8080');
    expect(moved).toContain('grafana 0.0.0.0:13000->3000');
    expect(moved).toContain('jaeger 0.0.0.0:16686->16686');
    expect(moved).toContain('kibana 0.0.0.0:5601->5601');
    expect(moved).toContain('prometheus 0.0.0.0:9090->9090');
    // It needs no token: it stays on this machine whatever BIND_ADDRESS says.
    expect(moved).toContain('codec-server 127.0.0.1:8089->8089');
  });

  it('runs two gateway replicas behind Nginx, which proxies to the gateway service on its port', async () => {
    const { services } = await load();
    expect(services.gateway?.deploy?.replicas).toBe(2);
    expect(services.gateway?.ports ?? []).toEqual([]);
    const mount = services['load-balancer']?.volumes?.find((v) => v.target === '/etc/nginx/nginx.conf');
    expect(mount?.source).toBe(join(root, 'deploy/nginx/nginx.conf'));
    const port = loadConfig(env(services.gateway!)).GATEWAY_PORT;
    expect(read('deploy/nginx/nginx.conf')).toMatch(new RegExp(`server gateway:${port} resolve;`));
  });
});

/**
 * The gateways behind Nginx: they believe X-Forwarded-For from the ranges of TRUSTED_PROXIES, so those must be
 * exactly the subnets of the networks the load balancer is on, with nothing else of the stack on them (anyone
 * there could name any client), and Nginx must send the header from every location.
 */
function proxyProblems(project: Project, nginxConf: string): string[] {
  const out: string[] = [];
  const { services, networks = {} } = project;
  const gateway = Object.entries(services).find(
    ([, s]) => isApp(s) && s.command?.join(' ') === 'api gateway',
  );
  const balancer = services['load-balancer'];
  if (!gateway || !balancer) return ['no gateway or no load-balancer'];
  const [name, service] = gateway;
  const trusted = loadConfig(env(service)).TRUSTED_PROXIES;
  const joined = Object.keys(balancer.networks ?? {});
  const subnets = joined.flatMap((n) => networks[n]?.ipam?.config?.map((c) => c.subnet ?? '') ?? []);
  if (subnets.length === 0 || subnets.length !== joined.length)
    out.push(`load-balancer: not on networks with a fixed subnet (${joined.join(', ')})`);
  if ([...subnets].sort().join(',') !== [...trusted].sort().join(','))
    out.push(
      `${name}: TRUSTED_PROXIES ${trusted.join(',')} is not the load balancer's subnets ${subnets.join(',')}`,
    );
  if (!joined.some((n) => n in (service.networks ?? {})))
    out.push(`${name}: shares no network with the load balancer`);
  for (const [other, s] of Object.entries(services))
    if (other !== 'load-balancer' && !(isApp(s) && s.command?.join(' ') === 'api gateway'))
      for (const n of Object.keys(s.networks ?? {}))
        if (joined.includes(n)) out.push(`${other}: on the trusted network ${n}`);
  const locations = nginxConf.match(/^\s*location\b/gm)?.length ?? 0;
  const forwarded =
    nginxConf.match(/^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/gm)?.length ?? 0;
  if (locations === 0 || forwarded !== locations)
    out.push(`nginx.conf: ${forwarded} of ${locations} locations send X-Forwarded-For`);
  return out;
}

describe('the gateways behind Nginx', () => {
  it('trust X-Forwarded-For from the network only Nginx shares with them, which .env can move', async () => {
    const nginx = read('deploy/nginx/nginx.conf');
    const project = await load();
    expect(proxyProblems(project, nginx)).toEqual([]);
    expect(loadConfig(env(project.services.gateway!)).TRUSTED_PROXIES).toEqual(['172.31.250.0/24']);
    const dir = brokenCopy(COMPOSE_FILES, (d) =>
      replaceIn(join(d, '.env.example'), 'EDGE_SUBNET=172.31.250.0/24', 'EDGE_SUBNET=10.123.0.0/24'),
    );
    copies.push(dir);
    const moved = await load(['--env-file', '.env.example'], dir);
    expect(proxyProblems(moved, nginx)).toEqual([]);
    expect(loadConfig(env(moved.services.gateway!)).TRUSTED_PROXIES).toEqual(['10.123.0.0/24']);
    // The per-client limits are the gateways' own now: no totals across clients set for them here.
    expect(Object.keys(env(project.services.gateway!)).filter((k) => k.startsWith('RATE_LIMIT_'))).toEqual(
      [],
    );
  });

  it('fails a broken copy: another service on the trusted network, a range that is not it, a location without the header', async () => {
    const broken = async (file: string, from: string, to: string) => {
      const dir = brokenCopy(COMPOSE_FILES, (d) => replaceIn(join(d, file), from, to));
      copies.push(dir);
      return proxyProblems(await load([], dir), readFileSync(join(dir, 'deploy/nginx/nginx.conf'), 'utf8'));
    };
    expect(
      await broken(
        'docker-compose.yml',
        "command: ['api', 'users']",
        "command: ['api', 'users']\n    networks: [default, edge]",
      ),
    ).toEqual(['users-api: on the trusted network edge']);
    expect(
      await broken(
        'docker-compose.yml',
        'TRUSTED_PROXIES: ${EDGE_SUBNET:-172.31.250.0/24}',
        'TRUSTED_PROXIES: 0.0.0.0/0',
      ),
    ).toEqual(["gateway: TRUSTED_PROXIES 0.0.0.0/0 is not the load balancer's subnets 172.31.250.0/24"]);
    expect(
      await broken(
        'deploy/nginx/nginx.conf',
        '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n',
        '',
      ),
    ).toEqual(['nginx.conf: 0 of 1 locations send X-Forwarded-For']);
  });
});

/**
 * The codec endpoint as the Web UI uses it: the operator's browser (not the UI's server) calls it, so the
 * UI's TEMPORAL_CODEC_ENDPOINT is its published address, and it must answer the UI's origins. It decodes
 * card tokens and emails without a token (this Web UI has no login to send one): only on loopback.
 */
function codecProblems(project: Project): string[] {
  const out: string[] = [];
  const found = Object.entries(project.services).filter(
    ([, s]) => isApp(s) && s.command?.join(' ') === 'codec-server',
  );
  if (found.length !== 1) return [`codec-server: run by ${found.length} services`];
  const [name, codec] = found[0]!;
  const config = loadConfig(env(codec));
  const port = config.CODEC_SERVER_PORT;
  if (!codec.healthcheck?.test?.join(' ').includes(`http://127.0.0.1:${port}/ready`))
    out.push(`${name}: healthcheck is not /ready on ${port}`);
  if (env(codec).PAYLOAD_CODEC_KEYS !== env(project.services['orders-worker']!).PAYLOAD_CODEC_KEYS)
    out.push(`${name}: PAYLOAD_CODEC_KEYS is not the workers'`);
  const published = (codec.ports ?? []).filter((p) => p.target === port);
  if (published.length !== 1 || published[0]!.host_ip !== '127.0.0.1')
    out.push(`${name}: port ${port} is not published on 127.0.0.1 only`);
  const ui = project.services['temporal-ui']!;
  const endpoint = env(ui).TEMPORAL_CODEC_ENDPOINT;
  const target = endpoint ? new URL(endpoint) : null;
  if (
    !target ||
    !['localhost', '127.0.0.1'].includes(target.hostname) ||
    target.port !== published[0]?.published
  )
    out.push(`temporal-ui: TEMPORAL_CODEC_ENDPOINT ${endpoint} is not ${name}'s published address`);
  const uiPort = ui.ports?.[0]?.published;
  const origins = config.CODEC_CORS_ORIGINS ?? [new URL(config.TEMPORAL_UI_URL).origin];
  for (const origin of [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`])
    if (!origins.includes(origin)) out.push(`${name}: does not answer the Web UI's origin ${origin}`);
  return out;
}

describe('the codec endpoint for the Web UI', () => {
  it('runs beside the Web UI, which points the browser at it, on any ports .env sets', async () => {
    expect(codecProblems(await load())).toEqual([]);
    const dir = brokenCopy(COMPOSE_FILES, (d) => {
      replaceIn(join(d, '.env.example'), 'BIND_ADDRESS=127.0.0.1', 'BIND_ADDRESS=0.0.0.0');
      replaceIn(join(d, '.env.example'), 'TEMPORAL_UI_PORT=8233', 'TEMPORAL_UI_PORT=18233');
      replaceIn(join(d, '.env.example'), 'CODEC_SERVER_PORT=8089', 'CODEC_SERVER_PORT=18089');
      replaceIn(join(d, '.env.example'), 'PAYLOAD_CODEC_KEYS=', `PAYLOAD_CODEC_KEYS=k1:${'A'.repeat(43)}=`);
    });
    copies.push(dir);
    expect(codecProblems(await load(['--env-file', '.env.example'], dir))).toEqual([]);
  });

  it('fails a broken copy: the UI not pointed at it, an origin missing, published beyond loopback', async () => {
    const broken = (from: string, to: string) => {
      const dir = brokenCopy(COMPOSE_FILES, (d) => replaceIn(join(d, 'docker-compose.yml'), from, to));
      copies.push(dir);
      return dir;
    };
    expect(
      codecProblems(
        await load(
          [],
          broken(
            'TEMPORAL_CODEC_ENDPOINT: http://localhost:',
            'TEMPORAL_CODEC_ENDPOINT: http://codec-server:',
          ),
        ),
      ),
    ).toEqual([
      "temporal-ui: TEMPORAL_CODEC_ENDPOINT http://codec-server:8089 is not codec-server's published address",
    ]);
    expect(
      codecProblems(await load([], broken(',http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}\n', '\n'))),
    ).toEqual(["codec-server: does not answer the Web UI's origin http://127.0.0.1:8233"]);
    expect(
      codecProblems(
        await load(
          [],
          broken(
            "'127.0.0.1:${CODEC_SERVER_PORT:-8089}:8089'",
            "'${BIND_ADDRESS:-0.0.0.0}:${CODEC_SERVER_PORT:-8089}:8089'",
          ),
        ),
      ),
    ).toEqual(['codec-server: port 8089 is not published on 127.0.0.1 only']);
  });

  it('answers the Web UI’s browser, as configured here: the preflight from its origin, then a decode', async () => {
    const { services } = await load();
    const codec = await startCodecServer(env(services['codec-server']!));
    try {
      for (const origin of ['http://localhost:8233', 'http://127.0.0.1:8233'])
        expect(await asTheWebUi(codec.url, origin), origin).toEqual({
          preflight: 204,
          allowOrigin: origin,
          allowHeaders: expect.stringContaining('x-namespace'),
          decode: 200,
          decodeAllowOrigin: origin,
        });
      expect((await asTheWebUi(codec.url, 'http://evil.example')).allowOrigin).toBeNull();
    } finally {
      await codec.stop();
    }
  });
});

describe('the observability profile', () => {
  it('has Prometheus scrape every /metrics, workers included, each on its port, with the alert rules', async () => {
    const { services } = await load(['--profile', 'observability']);
    const prometheus = parse(read('deploy/observability/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: {
        job_name: string;
        metrics_path?: string;
        dns_sd_configs?: { names: string[]; port: number }[];
      }[];
    };
    const targets = prometheus.scrape_configs
      .flatMap((job) => job.dns_sd_configs ?? [])
      .flatMap((sd) => sd.names.map((n) => `${n}:${sd.port}`))
      .sort();
    const expected = ROLES.map((role) => {
      const [name, service] = Object.entries(services).find(([, s]) => s.command?.join(' ') === role)!;
      return `${name}:${rolePort(loadConfig(env(service)), role)}`;
    }).sort();
    expect(targets).toEqual(expected);
    const mount = services.prometheus?.volumes?.find((v) => v.target === '/etc/prometheus');
    expect(mount?.source).toBe(join(root, 'deploy/observability/prometheus'));
    // Relative to the configuration's folder: /etc/prometheus/alerts.yml in the container.
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
  });

  it('provisions Grafana with Prometheus, Jaeger and Elasticsearch, and the dashboards folder', async () => {
    const { services } = await load(['--profile', 'observability']);
    const sources = (
      parse(read('deploy/observability/grafana/provisioning/datasources/datasources.yml')) as {
        datasources: { type: string; url: string }[];
      }
    ).datasources;
    expect(sources.map((s) => `${s.type} ${s.url}`).sort()).toEqual([
      'elasticsearch http://elasticsearch:9200',
      'jaeger http://jaeger:16686',
      'prometheus http://prometheus:9090',
    ]);
    for (const s of sources) expect(services[new URL(s.url).hostname], s.url).toBeDefined();
    const provider = (
      parse(read('deploy/observability/grafana/provisioning/dashboards/dashboards.yml')) as {
        providers: { options: { path: string } }[];
      }
    ).providers[0]!;
    const mount = services.grafana?.volumes?.find((v) => v.target === provider.options.path);
    expect(mount?.source).toBe(join(root, 'deploy/observability/grafana/dashboards'));
  });

  it('sends traces to Jaeger over OTLP and the containers’ JSON logs through Filebeat to Elasticsearch', async () => {
    const { services } = await load(['--profile', 'observability']);
    const endpoint = new URL(env(services['orders-api']!).OTEL_EXPORTER_OTLP_ENDPOINT!);
    expect([endpoint.hostname, endpoint.port]).toEqual(['jaeger', '4318']);
    // Every OrderSaga process traces (lib/tracing reads these), over the SDK's default protocol, HTTP,
    // which is what Jaeger takes on 4318.
    for (const [name, service] of Object.entries(services).filter(([, s]) => isApp(s)))
      expect(
        [tracingWanted(env(service)), env(service).OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf'],
        name,
      ).toEqual([true, 'http/protobuf']);
    const filebeat = parse(read('deploy/observability/filebeat/filebeat.yml')) as {
      'output.elasticsearch': { hosts: string[] };
    };
    expect(filebeat['output.elasticsearch'].hosts).toEqual(['http://elasticsearch:9200']);
    expect(services.filebeat?.volumes?.map((v) => v.target)).toContain('/var/lib/docker/containers');
  });
});

/**
 * The kafka profile: a real Apache Kafka (KRaft, one node) that the processes send the events to when
 * EVENTS_TRANSPORT=kafka, at the address the broker advertises; without the profile, nothing of it.
 */
describe('the kafka profile', () => {
  const apps = (p: Project) => Object.entries(p.services).filter(([, s]) => isApp(s));

  it('adds Apache Kafka in KRaft mode, on a volume, with the image’s own client as healthcheck, only with the profile', async () => {
    const plain = await load();
    const { services } = await load(['--profile', 'kafka']);
    expect(Object.keys(plain.services)).not.toContain('kafka');
    expect(Object.keys(services).sort()).toEqual([...Object.keys(plain.services), 'kafka'].sort());
    const kafka = services.kafka!;
    expect(kafka.image).toMatch(/^apache\/kafka:(3\.9|4\.\d+)\.\d+$/);
    const k = env(kafka);
    expect(k).toMatchObject({
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092',
    });
    expect(k.CLUSTER_ID).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(k.KAFKA_CONTROLLER_QUORUM_VOTERS).toMatch(/^1@/);
    expect(Object.keys(k).filter((key) => /ZOOKEEPER/.test(key))).toEqual([]);
    expect(kafka.healthcheck?.test?.join(' ')).toContain(
      '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092',
    );
    expect(kafka.volumes?.find((v) => v.target === k.KAFKA_LOG_DIRS)).toMatchObject({
      type: 'volume',
      source: 'kafka-data',
    });
    // The processes start once it answers; without the profile that wait is not required.
    for (const [name, s] of apps({ services }).filter(([, s]) => s.depends_on?.redis))
      expect(s.depends_on?.kafka, name).toMatchObject({ condition: 'service_healthy', required: false });
  });

  it('gives every process EVENTS_TRANSPORT and KAFKA_BROKERS: Redis by default, the profile’s broker with EVENTS_TRANSPORT=kafka, or the brokers .env names', async () => {
    const plain = await load();
    for (const [name, s] of apps(plain)) {
      expect(Object.keys(env(s)), name).toEqual(
        expect.arrayContaining(['EVENTS_TRANSPORT', 'KAFKA_BROKERS']),
      );
      expect(loadConfig(env(s)).EVENTS_TRANSPORT, name).toBe('redis');
    }
    const kafkaMode = brokenCopy(COMPOSE_FILES, (d) =>
      replaceIn(join(d, '.env.example'), 'EVENTS_TRANSPORT=redis', 'EVENTS_TRANSPORT=kafka'),
    );
    copies.push(kafkaMode);
    const project = await load(['--env-file', '.env.example', '--profile', 'kafka'], kafkaMode);
    const advertised = env(project.services.kafka!).KAFKA_ADVERTISED_LISTENERS!.replace(
      /^PLAINTEXT:\/\//,
      '',
    );
    for (const [name, s] of apps(project)) {
      const config = loadConfig(env(s));
      expect([config.EVENTS_TRANSPORT, config.KAFKA_BROKERS], name).toEqual(['kafka', [advertised]]);
    }
    const external = brokenCopy(COMPOSE_FILES, (d) => {
      replaceIn(join(d, '.env.example'), 'EVENTS_TRANSPORT=redis', 'EVENTS_TRANSPORT=kafka');
      replaceIn(join(d, '.env.example'), 'KAFKA_BROKERS=kafka:9092', 'KAFKA_BROKERS=b1:9092,b2:9092');
    });
    copies.push(external);
    const elsewhere = await load(['--env-file', '.env.example'], external);
    expect(Object.keys(elsewhere.services)).not.toContain('kafka');
    for (const [name, s] of apps(elsewhere))
      expect(loadConfig(env(s)).KAFKA_BROKERS, name).toEqual(['b1:9092', 'b2:9092']);
  });
});
