/**
 * The layer order, enforced by `npm run lint` (dependency-cruiser):
 *
 *   contracts  ←  lib  ←  db  ←  activities  ←  workers
 *                           ↖  api ↙                ↑
 *   workflows import contracts (and activities as types only); only workers and tests import workflows.
 *   api/client (the typed client REST callers use) stands alone: its generated types and openapi-fetch.
 *   scripts/, main.ts and tests/ sit on top. No import cycles anywhere.
 */
const layer = (name, allowedBelow, comment) => ({
  name: `layer-${name}`,
  comment,
  severity: 'error',
  from: { path: `^${name}/` },
  to: {
    path: '^(contracts|lib|db|activities|workflows|api|workers|scripts|tests)/|^main\\.ts$',
    pathNot: `^(${[name, ...allowedBelow].join('|')})/`,
  },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle ties modules together so that neither can be read or changed alone.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    layer('contracts', [], 'contracts/ is the shared vocabulary: it imports no project code'),
    layer('lib', ['contracts'], 'lib/ (the kernel) builds on contracts only'),
    layer('db', ['contracts', 'lib'], 'db/ (data and its operations) builds on contracts and lib'),
    layer(
      'activities',
      ['contracts', 'lib', 'db'],
      'activities use their service’s data; never api or workflows',
    ),
    layer('api', ['contracts', 'lib', 'db'], 'api imports no activity, workflow or worker code'),
    {
      name: 'api-client-stands-alone',
      comment:
        'api/client is for REST callers: it imports its generated types and openapi-fetch, no server code',
      severity: 'error',
      from: { path: '^api/client/' },
      to: {
        path: '^(contracts|lib|db|activities|workflows|workers|scripts|tests)/|^main\\.ts$|^api/(?!client/)',
      },
    },
    layer(
      'workers',
      ['contracts', 'lib', 'db', 'activities'],
      'workers host activities; they do not import api',
    ),
    {
      ...layer('workflows', ['contracts', 'activities'], 'workflows are deterministic: contracts only'),
      name: 'layer-workflows',
    },
    {
      name: 'workflows-import-activities-as-types',
      comment:
        'A workflow calls activities through proxyActivities: it imports their types, never their code',
      severity: 'error',
      from: { path: '^workflows/' },
      to: { path: '^activities/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-workers-import-workflows',
      comment: 'Nothing but the workers (and tests) loads workflow code',
      severity: 'error',
      from: { pathNot: '^(workflows|workers|tests)/' },
      to: { path: '^workflows/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.data|dist|coverage|bench/results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
