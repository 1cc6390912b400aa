/**
 * MQTT users from a credentials file shaped like infra/dev-credentials.json:
 * named service users, and one user per tenant of the registry whose password
 * follows a pattern. Mosquitto's password file and the embedded broker are
 * both generated from it, so both accept the same users.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { RegistryIndex } from '../../contracts/park-registry.ts';

const credentialsFileSchema = z.object({
  services: z.record(z.string().min(1), z.string().min(1)),
  tenantPassword: z.string().includes('{tenant}'),
});

export function loadMqttUsers(path: string, registry: RegistryIndex): Map<string, string> {
  const parsed = credentialsFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const users = new Map(Object.entries(parsed.data.services));
  for (const park of registry.registry.parks) for (const t of park.tenants) users.set(t.id, parsed.data.tenantPassword.replaceAll('{tenant}', t.id));
  return users;
}
