/**
 * Reads the PEM files a TLS client was configured with (the *_CA_FILE,
 * *_CERT_FILE and *_KEY_FILE variables of shared/config/adapters-env.ts).
 * A file that cannot be read or holds no PEM block is a configuration error
 * naming the variable, not a handshake failure later.
 */
import { readFileSync } from 'node:fs';
import { EipError } from '../errors.ts';

export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

export function readTlsFiles(config: Readonly<Record<string, unknown>>, prefix: string): TlsMaterial {
  const out: TlsMaterial = {};
  for (const part of ['ca', 'cert', 'key'] as const) {
    const variable = `${prefix}_${part.toUpperCase()}_FILE`;
    const path = config[variable];
    if (typeof path !== 'string' || path === '') continue;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new EipError('CONFIG_INVALID', `${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { details: { variables: [variable] } });
    }
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) throw new EipError('CONFIG_INVALID', `${variable}: ${path} holds no PEM block`, { details: { variables: [variable] } });
    out[part] = text;
  }
  return out;
}
