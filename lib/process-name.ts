/**
 * The name a `node main.ts <command> [name]` process goes by: in its log lines (`process`), its metrics'
 * `process` label and its spans' `service.name`.
 */
export function processNameOf([command, name]: readonly (string | undefined)[]): string {
  if (command === 'api') return name === 'gateway' ? 'gateway' : `${name}-api`;
  if (command === 'worker') return `${name}-worker`;
  return command ?? 'ordersaga';
}
