// Prints the broker's users as plain "user:password" lines, which
// `mosquitto_passwd -U` then hashes in place. Used by mosquitto.sh and by the
// mosquitto-users step of docker-compose.yml.
// Usage: node passwd-plain.mjs <park registry.json> <dev-credentials.json> [out file]
// Users: the service accounts of the credentials file, and one user per
// tenant of the registry (username = tenant id), whose password is
// tenantPassword with {tenant} replaced by the tenant id.
import { readFileSync, writeFileSync } from 'node:fs';

const [registryFile, credentialsFile, out] = process.argv.slice(2);
if (!registryFile || !credentialsFile) {
  console.error('usage: node passwd-plain.mjs <registry.json> <credentials.json> [out]');
  process.exit(2);
}
const registry = JSON.parse(readFileSync(registryFile, 'utf8'));
const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
const users = new Map(Object.entries(credentials.services));
for (const park of registry.parks) {
  for (const tenant of park.tenants) {
    if (users.has(tenant.id)) throw new Error(`tenant id ${tenant.id} collides with a service account`);
    users.set(tenant.id, credentials.tenantPassword.replaceAll('{tenant}', tenant.id));
  }
}
for (const name of users.keys()) {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`unusable MQTT username: ${JSON.stringify(name)}`);
}
const text = [...users].map(([u, p]) => `${u}:${p}\n`).join('');
if (out) writeFileSync(out, text, { mode: 0o600 });
else process.stdout.write(text);
