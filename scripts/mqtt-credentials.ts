/**
 * npm run mqtt:credentials -- add|rotate|revoke|list|render ...
 * Keeps the MQTT credential store: one account per service, tenant or gateway,
 * each with its own random secret, stored only as a hash. The embedded broker
 * reads the store itself (MQTT_CREDENTIALS); Mosquitto reads the
 * dynamic-security file rendered from it (--mosquitto, or infra/mosquitto/mosquitto.sh
 * with EIP_MQTT_CREDENTIALS). A new secret is printed once, on stdout, and never stored.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { serviceRoles, type ServiceRole } from '../shared/contracts/mqtt-acl.ts';
import { demoParkPath, loadParkRegistry, type RegistryIndex } from '../shared/contracts/park-registry.ts';
import {
  accountNameSchema, hashPassword, isDevTemplate, loadMqttAccounts, newSecret, principalOf, readCredentialStore, writeCredentialStore,
  type CredentialStore, type StoredAccount,
} from '../shared/adapters/mqtt/credentials.ts';
import { renderDynsec } from '../infra/mosquitto/render-dynsec.ts';

export const help = `usage: npm run mqtt:credentials -- <command> [account] [options]

commands:
  list               the accounts: name, role, tenant, last change (never a secret)
  add <account>      a new account with a random secret, printed once on stdout
  rotate <account>   a new secret for an account; the old one stops working when the brokers reload
  revoke <account>   removes the account
  render             only writes Mosquitto's file (needs --mosquitto)

account: ingest | rules | console | simulator | <tenant id> | <tenant id>.<gateway id>
  (a gateway account publishes for its tenant with a secret of its own; its client ids are <account>:...)

options:
  --file FILE        the credential store (default: $MQTT_CREDENTIALS); add creates it
  --registry FILE    park registry: a tenant account's tenant must be in it
                     (default: $PARK_REGISTRY or shared/parks/demo-park.json)
  --mosquitto FILE   also write Mosquitto's dynamic-security file (restart Mosquitto to load it:
                     bash infra/mosquitto/mosquitto.sh up does when it changed)
`;

export class UsageError extends Error {}

/** The account's role and tenant, from its name and the registry. */
export function accountFor(name: string, registry: RegistryIndex): Pick<StoredAccount, 'username' | 'role' | 'tenant'> {
  const parsed = accountNameSchema.safeParse(name);
  if (!parsed.success) throw new UsageError(`bad account name ${JSON.stringify(name)}: ${parsed.error.issues[0]!.message}`);
  if ((serviceRoles as readonly string[]).includes(name)) return { username: name, role: name as ServiceRole };
  const tenant = name.split('.')[0]!;
  if (!registry.tenant(tenant)) throw new UsageError(`tenant ${tenant} is not in the park registry ${registry.registry.parks.map((p) => p.id).join(', ')}`);
  return { username: name, role: 'tenant', tenant };
}

export interface Change {
  store: CredentialStore;
  /** The new secret, for add and rotate. */
  secret?: string;
}

export function applyCommand(
  command: 'add' | 'rotate' | 'revoke',
  name: string,
  store: CredentialStore,
  registry: RegistryIndex,
  deps: { now: () => Date; secret: () => string },
): Change {
  const existing = store.accounts.find((a) => a.username === name);
  if (command === 'revoke') {
    if (!existing) throw new UsageError(`no account ${name}`);
    return { store: { ...store, accounts: store.accounts.filter((a) => a !== existing) } };
  }
  if (command === 'add' && existing) throw new UsageError(`account ${name} exists; rotate changes its secret`);
  if (command === 'rotate' && !existing) throw new UsageError(`no account ${name}; add creates it`);
  const account = accountFor(name, registry);
  principalOf(account, registry);
  const secret = deps.secret();
  const entry: StoredAccount = { ...account, password: hashPassword(secret), updatedAt: deps.now().toISOString() };
  const accounts = existing ? store.accounts.map((a) => (a === existing ? entry : a)) : [...store.accounts, entry];
  return { store: { ...store, accounts: accounts.sort((a, b) => a.username.localeCompare(b.username)) }, secret };
}

function readStore(path: string, create: boolean): CredentialStore {
  if (!existsSync(path)) {
    if (create) return { version: 1, accounts: [] };
    throw new UsageError(`${path} does not exist; add creates it`);
  }
  const json: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (isDevTemplate(json)) {
    throw new UsageError(`${path} is the development template (known passwords); give a credential store with --file`);
  }
  return readCredentialStore(path);
}

export function main(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): number {
  let values: { file?: string; registry?: string; mosquitto?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv, allowPositionals: true,
      options: { file: { type: 'string' }, registry: { type: 'string' }, mosquitto: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    err(`mqtt-credentials: ${(e as Error).message}\n${help}`);
    return 2;
  }
  if (values.help) {
    out(help);
    return 0;
  }
  try {
    const [command, name, ...extra] = positionals;
    const file = values.file ?? env.MQTT_CREDENTIALS;
    if (!file) throw new UsageError('no credential store: give --file or set MQTT_CREDENTIALS');
    const registry = loadParkRegistry(values.registry ?? env.PARK_REGISTRY ?? demoParkPath);
    const renderMosquitto = (): void => {
      if (!values.mosquitto) return;
      writeFileSync(values.mosquitto, `${JSON.stringify(renderDynsec(loadMqttAccounts(file, registry)), null, 2)}\n`, { mode: 0o600 });
      err(`mqtt-credentials: wrote ${values.mosquitto}; restart Mosquitto to load it\n`);
    };
    if (command === 'list' && name === undefined) {
      for (const a of readStore(file, false).accounts) out(`${a.username}\t${a.role}\t${a.tenant ?? '-'}\t${a.updatedAt}\n`);
      return 0;
    }
    if (command === 'render' && name === undefined) {
      if (!values.mosquitto) throw new UsageError('render needs --mosquitto FILE');
      readStore(file, false);
      renderMosquitto();
      return 0;
    }
    if ((command === 'add' || command === 'rotate' || command === 'revoke') && name !== undefined && extra.length === 0) {
      const change = applyCommand(command, name, readStore(file, command === 'add'), registry, { now: () => new Date(), secret: newSecret });
      writeCredentialStore(file, change.store);
      err(`mqtt-credentials: ${command} ${name} in ${file}\n`);
      if (change.secret !== undefined) out(`${change.secret}\n`);
      renderMosquitto();
      return 0;
    }
    throw new UsageError(`unknown or incomplete command: ${positionals.join(' ') || '(none)'}`);
  } catch (e) {
    err(`mqtt-credentials: ${(e as Error).message}\n${e instanceof UsageError ? `run with --help for usage\n` : ''}`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = main(process.argv.slice(2), process.env, (s) => process.stdout.write(s), (s) => process.stderr.write(s));
}
