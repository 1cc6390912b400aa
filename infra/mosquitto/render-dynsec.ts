/**
 * Renders Mosquitto's security from the project's own sources: the accounts
 * (a credential store or the development template, shared/adapters/mqtt/credentials.ts)
 * and the access rules (shared/contracts/mqtt-acl.ts) become the dynamic-security
 * plugin's configuration; the client-id guard's options come from the same rules.
 *
 *   node infra/mosquitto/render-dynsec.ts dynsec <registry.json> <credentials.json> <out.json>
 *   node infra/mosquitto/render-dynsec.ts plugins <guard.so> <dynsec.so> <dynsec config path>
 *   node infra/mosquitto/render-dynsec.ts roles <registry.json>      (what infra/mosquitto/dynsec-roles.json holds)
 */
import { writeFileSync } from 'node:fs';
import { clientIdSeparator, grantsOf, noRetainFilters, serviceRoles, type MqttPrincipal } from '../../shared/contracts/mqtt-acl.ts';
import { loadParkRegistry, type RegistryIndex } from '../../shared/contracts/park-registry.ts';
import { isDevCredentialSource, loadMqttAccounts, type MqttAccounts } from '../../shared/adapters/mqtt/credentials.ts';

interface DynsecAcl {
  acltype: 'publishClientSend' | 'publishClientReceive' | 'subscribePattern';
  topic: string;
  priority: 0;
  allow: true;
}

interface DynsecRole {
  rolename: string;
  acls: DynsecAcl[];
}

export const roleName = (p: MqttPrincipal): string => (p.role === 'tenant' ? `tenant/${p.tenant}` : p.role);

/** One dynamic-security role per service and per tenant (a tenant's gateways share its role). */
export function dynsecRole(p: MqttPrincipal): DynsecRole {
  const acls: DynsecAcl[] = [];
  const acl = (acltype: DynsecAcl['acltype'], topic: string): void => { acls.push({ acltype, topic, priority: 0, allow: true }); };
  for (const g of grantsOf(p)) {
    if (g.access === 'write') {
      acl('publishClientSend', g.filter);
      continue;
    }
    acl('subscribePattern', g.filter);
    // Mosquitto checks a shared subscription with its $share/<group>/ prefix.
    if (g.shared) acl('subscribePattern', `$share/+/${g.filter}`);
    acl('publishClientReceive', g.filter);
  }
  return { rolename: roleName(p), acls };
}

/** The roles every deployment of this registry has: the services and each tenant of the registry. */
export function registryPrincipals(registry: RegistryIndex): MqttPrincipal[] {
  const services: MqttPrincipal[] = serviceRoles.map((role) => ({ username: role, role }));
  const tenants: MqttPrincipal[] = registry.registry.parks.flatMap((park) => park.tenants.map((t) => ({ username: t.id, role: 'tenant' as const, park: park.id, tenant: t.id })));
  return [...services, ...tenants];
}

export function renderRoles(principals: readonly MqttPrincipal[]): DynsecRole[] {
  const byName = new Map<string, DynsecRole>();
  for (const p of principals) if (!byName.has(roleName(p))) byName.set(roleName(p), dynsecRole(p));
  return [...byName.values()];
}

/** The plugin's configuration file: every account with its hash and one role; nothing is allowed by default. */
export function renderDynsec(accounts: MqttAccounts): object {
  const all = accounts.all();
  return {
    defaultACLAccess: { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true },
    clients: all.map((a) => {
      const h = a.passwordHash();
      return { username: a.principal.username, textname: a.principal.role, roles: [{ rolename: roleName(a.principal) }], password: h.hash, salt: h.salt, iterations: h.iterations };
    }),
    groups: [],
    roles: renderRoles(all.map((a) => a.principal)),
  };
}

/** mosquitto.conf lines loading the guard (first: it only refuses) and the dynamic-security plugin. */
export function renderPluginBlock(guardSo: string, dynsecSo: string, dynsecConfig: string): string {
  return [
    `plugin ${guardSo}`,
    `plugin_opt_separator ${clientIdSeparator}`,
    ...noRetainFilters.map((f, i) => `plugin_opt_no_retain${i + 1} ${f}`),
    `plugin ${dynsecSo}`,
    `plugin_opt_config_file ${dynsecConfig}`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, ...args] = process.argv.slice(2);
  const usage = (): never => {
    process.stderr.write('usage: render-dynsec.ts dynsec <registry> <credentials> <out> | plugins <guard.so> <dynsec.so> <dynsec.json> | roles <registry>\n');
    process.exit(2);
  };
  try {
    if (command === 'dynsec' && args.length === 3) {
      const registry = loadParkRegistry(args[0]!);
      const accounts = loadMqttAccounts(args[1]!, registry);
      // One pattern gives every tenant's password: a deployment needs a credential store.
      if (process.env.NODE_ENV === 'production' && isDevCredentialSource(accounts)) {
        process.stderr.write(`render-dynsec: refusing with NODE_ENV=production: ${args[1]} is a password template (one {tenant} pattern for every tenant); make a credential store with npm run mqtt:credentials\n`);
        process.exit(2);
      }
      writeFileSync(args[2]!, `${JSON.stringify(renderDynsec(accounts), null, 2)}\n`, { mode: 0o600 });
    } else if (command === 'plugins' && args.length === 3) {
      process.stdout.write(`${renderPluginBlock(args[0]!, args[1]!, args[2]!)}\n`);
    } else if (command === 'roles' && args.length === 1) {
      process.stdout.write(`${JSON.stringify(renderRoles(registryPrincipals(loadParkRegistry(args[0]!))), null, 2)}\n`);
    } else usage();
  } catch (err) {
    process.stderr.write(`render-dynsec: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
