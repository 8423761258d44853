/**
 * resolveConfig(): the one place configuration is assembled.
 * Precedence, lowest to highest: defaults < config file < AIOPS_* environment < command-line flags.
 * Every field records where its value came from, for `aiops config show`.
 */
import path from 'node:path'
import { cosmiconfig } from 'cosmiconfig'
import { ConfigError } from '../errors.js'
import { isField, leaves, type FieldSpec, type Section } from './fields.js'
import { type AiopsConfig, configSchema } from './schema.js'
import { closest, coerceField } from './validate.js'

export type SourceKind = 'default' | 'file' | 'env' | 'flag'
export interface ValueSource {
  kind: SourceKind
  /** The file path, environment variable or flag that set it. */
  detail?: string
}

export interface ResolvedConfig {
  config: AiopsConfig
  /** Dotted field path → where its value came from. */
  sources: Record<string, ValueSource>
  /** The config file read, if any. */
  file?: string
  /** Non-fatal findings, e.g. an AIOPS_* variable that matches no field. */
  warnings: string[]
}

export interface FlagOverride {
  value: unknown
  /** The flag as typed, e.g. `--telemetry-port`, for provenance and error messages. */
  flag: string
}

export interface ResolveOptions {
  /** Explicit file (`--config PATH`); otherwise AIOPS_CONFIG, otherwise searched for in cwd. */
  configPath?: string
  cwd?: string
  env?: Record<string, string | undefined>
  /** Dotted path → flag value. Undefined values are ignored (flag not given). */
  flags?: Record<string, FlagOverride | undefined>
}

/** Env variables that configure the loader itself rather than a field. */
const LOADER_ENV = new Set(['AIOPS_CONFIG'])

export const SEARCH_PLACES = ['aiops.config.yaml', 'aiops.config.yml', 'aiops.config.json', 'aiops.config.js', 'aiops.config.mjs']

export async function resolveConfig(opts: ResolveOptions = {}): Promise<ResolvedConfig> {
  const cwd = opts.cwd ?? process.cwd()
  const env = opts.env ?? process.env
  const fields = leaves(configSchema)
  const values = new Map<string, unknown>(fields.map((f) => [f.path, f.spec.default]))
  const sources: Record<string, ValueSource> = Object.fromEntries(fields.map((f) => [f.path, { kind: 'default' }]))
  const warnings: string[] = []

  const file = await loadFile(opts.configPath ?? env.AIOPS_CONFIG, cwd)
  if (file) {
    walkFile(file.config, configSchema, '', (p, spec, raw) => {
      values.set(p, coerceField(p, spec, raw, 'file', file.filepath, `fix ${p} in ${file.filepath}`))
      sources[p] = { kind: 'file', detail: file.filepath }
    })
  }

  const byEnv = new Map(fields.map((f) => [f.env, f]))
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('AIOPS_') || raw === undefined || LOADER_ENV.has(name)) continue
    const f = byEnv.get(name)
    if (!f) {
      const guess = closest(name, [...byEnv.keys()])
      warnings.push(`environment variable ${name} matches no config field${guess ? ` (did you mean ${guess}?)` : ''}`)
      continue
    }
    values.set(f.path, coerceField(f.path, f.spec, raw, 'env', name, `change or unset ${name}`))
    sources[f.path] = { kind: 'env', detail: name }
  }

  const specs = new Map(fields.map((f) => [f.path, f.spec]))
  for (const [p, override] of Object.entries(opts.flags ?? {})) {
    if (!override || override.value === undefined) continue
    const spec = specs.get(p)
    if (!spec) throw new Error(`flag ${override.flag} maps to unknown config field ${p}`) // a bug in a command, not user input
    values.set(p, coerceField(p, spec, override.value, 'flag', override.flag, `change ${override.flag}`))
    sources[p] = { kind: 'flag', detail: override.flag }
  }

  const config = unflatten(values) as AiopsConfig
  applyDerivedDefaults(config, cwd, sources)
  return { config, sources, file: file?.filepath, warnings }
}

/** Defaults that depend on other fields: relative paths resolve against cwd, chDB lives under dataDir. */
function applyDerivedDefaults(config: AiopsConfig, cwd: string, sources: Record<string, ValueSource>): void {
  config.dataDir = path.resolve(cwd, config.dataDir)
  if (config.store.chdb.path === '') {
    config.store.chdb.path = path.join(config.dataDir, 'chdb')
    sources['store.chdb.path'] = { kind: 'default', detail: 'derived from dataDir' }
  } else {
    config.store.chdb.path = path.resolve(cwd, config.store.chdb.path)
  }
}

async function loadFile(explicit: string | undefined, cwd: string): Promise<{ config: unknown; filepath: string } | undefined> {
  const explorer = cosmiconfig('aiops', { searchPlaces: SEARCH_PLACES, searchStrategy: 'none', cache: false })
  try {
    const found = explicit ? await explorer.load(path.resolve(cwd, explicit)) : await explorer.search(cwd)
    if (!found || found.isEmpty) return found ? { config: {}, filepath: found.filepath } : undefined
    return { config: found.config, filepath: found.filepath }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const where = explicit ?? cwd
    if (e.code === 'ENOENT') {
      throw new ConfigError('config', `config file ${where} does not exist`, {
        suggestions: ['check --config PATH (or AIOPS_CONFIG); `aiops config init` writes a starter file'],
        cause: err,
      })
    }
    throw new ConfigError('config', `config file ${where} could not be read: ${e.message}`, {
      suggestions: ['fix the file syntax (YAML or JSON); `aiops config init --force` writes a valid starter'],
      cause: err,
    })
  }
}

function walkFile(node: unknown, section: Section, prefix: string, visit: (path: string, spec: FieldSpec, raw: unknown) => void): void {
  // A section whose fields are all commented out parses as null: that is an empty section, not an error.
  if (node === null || node === undefined) return
  if (typeof node !== 'object' || Array.isArray(node)) {
    const where = prefix || 'the top level'
    throw new ConfigError(prefix || 'config', `${where} must be a mapping of fields, got ${JSON.stringify(node)}`, {
      suggestions: [`accepted fields under ${where}: ${Object.keys(section).join(', ')}`],
    })
  }
  for (const [key, raw] of Object.entries(node as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${key}` : key
    const child = section[key]
    if (!child) {
      const guess = closest(key, Object.keys(section))
      throw new ConfigError(p, `${p} is not a known config field${guess ? `; did you mean ${prefix ? `${prefix}.` : ''}${guess}?` : ''}`, {
        details: { accepted: Object.keys(section) },
        suggestions: [`accepted fields${prefix ? ` under ${prefix}` : ''}: ${Object.keys(section).join(', ')}`],
      })
    }
    if (isField(child)) visit(p, child, raw)
    else walkFile(raw, child, p, visit)
  }
}

function unflatten(values: Map<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [p, v] of values) {
    const parts = p.split('.')
    let node = root
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
    node[parts.at(-1)!] = Array.isArray(v) ? [...v] : v
  }
  return root
}
