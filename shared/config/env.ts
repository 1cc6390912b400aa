/**
 * Configuration comes from environment variables, validated by one zod schema
 * per service before any I/O. Each variable carries its own documentation, so
 * the README tables and `--help` are generated from the schema and cannot drift.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { EipError } from '../errors.ts';
import { devValueKind, fileHoldsDevCredentials } from './dev-secrets.ts';

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

type LoadedConfig = Readonly<Record<string, unknown>>;

/** What loadConfig checks beyond a variable's own value. */
interface VariableRules {
  /** Holds a secret: never echoed; a development value (or the variable's own non-empty default) is refused in production. */
  secret?: boolean;
  /** Names a credentials file: one holding the project's development credentials is refused in production. */
  credentialsFile?: boolean;
  /** Whether the service uses the variable with this configuration (an unused development token is harmless). */
  usedWhen?: (config: LoadedConfig) => boolean;
  /** A rule across variables, e.g. required when another is set; returns the problem, or undefined. */
  check?: (value: string, config: LoadedConfig) => string | undefined;
}

const rules = new WeakMap<z.ZodType, VariableRules>();

export interface EnvStringOptions extends VariableRules {
  default?: string;
  minLength?: number;
  allowed?: string;
}

export function envString(description: string, options: EnvStringOptions = {}) {
  const base = z.string().min(options.minLength ?? 1, `must not be empty`);
  const schema = options.default === undefined ? base : base.default(options.default);
  const { secret, credentialsFile, usedWhen, check } = options;
  rules.set(schema, { secret, credentialsFile, usedWhen, check });
  const shownDefault = options.default === undefined ? undefined : !secret ? options.default : options.default === '' ? '(empty)' : '(dev default)';
  return documented(schema, {
    description, allowed: options.allowed ?? (secret ? 'a secret string' : 'a string'),
    ...(shownDefault !== undefined && { default: shownDefault }), ...(secret && { secret: true }),
  });
}

/** A password, token, key or secret-bearing URL: documented and validated like a string, never echoed. */
export function envSecret(description: string, options: Omit<EnvStringOptions, 'secret'> = {}) {
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

export function envEnum<const T extends readonly [string, ...string[]]>(description: string, values: T, options: { default?: T[number]; check?: VariableRules['check'] } = {}) {
  const base = z.enum(values, { error: () => `must be one of: ${values.join(', ')}` });
  const schema = options.default === undefined ? base : base.default(options.default as never);
  if (options.check) rules.set(schema, { check: options.check });
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

export interface DevSecretFinding {
  variable: string;
  why: string;
}

/** Variables of a loaded configuration that the service uses and that hold a development secret. */
export function findDevSecrets(schema: EnvSchema, config: LoadedConfig, cwd = process.cwd()): DevSecretFinding[] {
  const found: DevSecretFinding[] = [];
  for (const [name, field] of Object.entries(schema.shape)) {
    const r = rules.get(field);
    const value = config[name];
    if (!r || typeof value !== 'string' || value === '' || (r.usedWhen && !r.usedWhen(config))) continue;
    if (r.secret) {
      const kind = devValueKind(value) ?? (value === docDefault(field) ? 'the development default of this variable' : undefined);
      if (kind) found.push({ variable: name, why: `is ${kind}` });
    }
    if (r.credentialsFile && fileHoldsDevCredentials(resolve(cwd, value))) found.push({ variable: name, why: `names a file holding the project's development credentials or a shared tenant-password pattern (${value})` });
  }
  return found;
}

function docDefault(field: z.ZodType): string | undefined {
  const parsed = field.safeParse(undefined);
  return parsed.success && typeof parsed.data === 'string' ? parsed.data : undefined;
}

const warned = new Set<string>();

export interface LoadConfigOptions {
  /** Where the warning about development secrets goes outside production; default stderr. */
  warn?: (text: string) => void;
}

/**
 * Parses the environment; throws CONFIG_INVALID naming every bad variable and what it allows.
 * With NODE_ENV=production it also refuses every development secret the service would use
 * (naming the variable, never the value); otherwise it warns about them once.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv = process.env, service = 'service', options: LoadConfigOptions = {}): z.infer<S> {
  const config = parseConfig(schema, env, service);
  const findings = findDevSecrets(schema, config);
  if (findings.length === 0) return config;
  if (env.NODE_ENV === 'production') {
    const lines = findings.map((f) => `  ${f.variable}: ${f.why}`).join('\n');
    throw new EipError('CONFIG_INVALID', `refusing to start ${service} with NODE_ENV=production on development secrets:\n${lines}\nSet each to a secret of your own (see the Security section of README.md).`, { details: { variables: findings.map((f) => f.variable) } });
  }
  // Once per variable and process: `npm start` loads several services sharing variables.
  const fresh = findings.filter((f) => !warned.has(f.variable));
  if (fresh.length === 0) return config;
  for (const f of fresh) warned.add(f.variable);
  const warn = options.warn ?? ((text: string) => { process.stderr.write(text); });
  warn(`\n!!! WARNING: ${service} is running on development secrets, known to anyone with this repository:\n${fresh.map((f) => `  ${f.variable}: ${f.why}`).join('\n')}\n!!! Fine on a laptop; never on a reachable deployment. With NODE_ENV=production ${service} refuses to start on them.\n\n`);
  return config;
}

function parseConfig<S extends EnvSchema>(schema: S, env: NodeJS.ProcessEnv, service: string): z.infer<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable counts as unset, as shells make that easy to do by accident.
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (result.success) {
    const data = result.data as z.infer<S> & LoadedConfig;
    const problems = Object.entries(schema.shape).flatMap(([name, field]) => {
      const check = rules.get(field)?.check;
      const value = data[name];
      const problem = check && typeof value === 'string' ? check(value, data) : undefined;
      return problem ? [`  ${name}: ${problem}`] : [];
    });
    if (problems.length === 0) return data;
    throw new EipError('CONFIG_INVALID', `invalid configuration for ${service}:\n${problems.join('\n')}`, { details: { variables: problems.map((p) => p.trim().split(':')[0]) } });
  }
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
