/**
 * Configuration comes from environment variables, validated by one zod schema
 * per service before any I/O. Each variable carries its own documentation, so
 * the README tables and `--help` are generated from the schema and cannot drift.
 */
import { z } from 'zod';
import { EipError } from '../errors.ts';

export interface VariableDoc {
  description: string;
  allowed: string;
  default?: string;
  /** A password, token or key (or a URL that carries one): its value is never echoed, in errors or in --help. */
  secret?: boolean;
}

/** Documentation registry keyed by schema instance. */
const docs = new WeakMap<z.ZodType, VariableDoc>();

function documented<T extends z.ZodType>(schema: T, doc: VariableDoc): T {
  docs.set(schema, doc);
  return schema;
}

export function envString(description: string, options: { default?: string; minLength?: number; secret?: boolean; allowed?: string } = {}) {
  const base = z.string().min(options.minLength ?? 1, `must not be empty`);
  const schema = options.default === undefined ? base : base.default(options.default);
  const shownDefault = options.default === undefined ? undefined : !options.secret ? options.default : options.default === '' ? '(empty)' : '(dev default)';
  return documented(schema, {
    description, allowed: options.allowed ?? (options.secret ? 'a secret string' : 'a string'),
    ...(shownDefault !== undefined && { default: shownDefault }), ...(options.secret && { secret: true }),
  });
}

/** A password, token, key or secret-bearing URL: documented and validated like a string, never echoed. */
export function envSecret(description: string, options: { default?: string; minLength?: number; allowed?: string } = {}) {
  return envString(description, { ...options, secret: true });
}

export function envInt(description: string, options: { default?: number; min?: number; max?: number } = {}) {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const base = z
    .string()
    .regex(/^-?\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
  const schema = options.default === undefined ? base : base.default(options.default);
  const allowed = options.min !== undefined || options.max !== undefined ? `an integer from ${min} to ${options.max !== undefined ? max : '∞'}` : 'an integer';
  return documented(schema, { description, allowed, ...(options.default !== undefined && { default: String(options.default) }) });
}

export function envEnum<const T extends readonly [string, ...string[]]>(description: string, values: T, options: { default?: T[number] } = {}) {
  const base = z.enum(values, { error: () => `must be one of: ${values.join(', ')}` });
  const schema = options.default === undefined ? base : base.default(options.default as never);
  return documented(schema, { description, allowed: `one of ${values.join(', ')}`, ...(options.default !== undefined && { default: options.default }) });
}

export function envBool(description: string, options: { default?: boolean } = {}) {
  const base = z.enum(['true', 'false', '1', '0'], { error: () => 'must be true or false' }).transform((v) => v === 'true' || v === '1');
  const schema = options.default === undefined ? base : base.default(options.default);
  return documented(schema, { description, allowed: 'true or false', ...(options.default !== undefined && { default: String(options.default) }) });
}

export function envUrl(description: string, protocols: readonly string[], options: { default?: string } = {}) {
  const base = z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);
  const schema = options.default === undefined ? base : base.default(options.default);
  return documented(schema, { description, allowed: `${protocols.join(', ')} URL`, ...(options.default !== undefined && { default: options.default }) });
}

/** Comma-separated list, e.g. KAFKA_BROKERS=host1:9092,host2:9092. */
export function envList(description: string, options: { default?: string; item?: RegExp; itemHint?: string } = {}) {
  const item = options.item ?? /.+/;
  const base = z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((s) => item.test(s)), `must be a comma-separated list of ${options.itemHint ?? 'values'}`);
  const schema = options.default === undefined ? base : base.default(options.default.split(','));
  return documented(schema, { description, allowed: `comma-separated ${options.itemHint ?? 'values'}`, ...(options.default !== undefined && { default: options.default }) });
}

export type EnvSchema = z.ZodObject<Record<string, z.ZodType>>;

/** Parses the environment; throws CONFIG_INVALID naming every bad variable and what it allows. */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env, service = 'service'): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable counts as unset, as shells make that easy to do by accident.
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '(unknown)');
    const doc = describeVariables(schema).find((d) => d.name === key);
    const given = input[key] === undefined ? 'it is not set' : doc?.secret ? 'got a value, not shown as it is secret' : `got "${withoutCredentials(input[key])}"`;
    return `  ${key}: ${issue.code === 'invalid_type' && input[key] === undefined ? 'is required' : issue.message} (${given}; allowed: ${doc?.allowed ?? 'see the README'})`;
  });
  throw new EipError('CONFIG_INVALID', `invalid configuration for ${service}:\n${lines.join('\n')}`, { details: { variables: result.error.issues.map((i) => String(i.path[0])) } });
}

/** A URL's user and password are as secret as a password variable: never echoed. */
function withoutCredentials(value: string): string {
  return value.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

export interface NamedVariableDoc extends VariableDoc {
  name: string;
  required: boolean;
}

export function describeVariables(schema: EnvSchema): NamedVariableDoc[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const doc = docs.get(field) ?? { description: '', allowed: '' };
    return { name, ...doc, required: doc.default === undefined };
  });
}

/** A Markdown table for the README, generated from the schema. */
export function variablesMarkdown(schema: EnvSchema): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const rows = describeVariables(schema).map((d) => `| \`${d.name}\` | ${cell(d.description)} | ${cell(d.allowed)} | ${d.default === undefined ? '(required)' : `\`${cell(d.default)}\``} |`);
  return ['| variable | what it sets | allowed | default |', '|---|---|---|---|', ...rows].join('\n');
}

/** Plain text for `--help`. */
export function variablesHelp(schema: EnvSchema): string {
  return describeVariables(schema)
    .map((d) => `  ${d.name.padEnd(28)} ${d.description}\n  ${''.padEnd(28)} allowed: ${d.allowed}; default: ${d.default ?? '(required)'}`)
    .join('\n');
}
