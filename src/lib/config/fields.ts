/**
 * A small schema language for aiops configuration. One description of each field gives: validation with
 * messages that name the field, the bad value and what is accepted; the AIOPS_* environment variable; the
 * commented starter file (`aiops config init`); secret redaction; and the resolved TypeScript type.
 * (A generic validator such as zod can do the first, but not the other four from the same place.)
 */

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'enum' | 'list'

export interface FieldSpec<T = unknown> {
  readonly kind: 'field'
  readonly type: FieldType
  readonly default: T
  readonly doc: string
  readonly values?: readonly string[]
  readonly min?: number
  readonly max?: number
  /** Printed as *** by `config show`, logs and error messages. */
  readonly secret?: boolean
  /** Phantom member carrying the value type for inference; never set. */
  readonly __type?: T
}

export interface Section {
  readonly [key: string]: FieldSpec | Section
}

/** The resolved value type of a schema section. */
export type Infer<S> = S extends FieldSpec<infer T> ? T : { -readonly [K in keyof S]: Infer<S[K]> }

interface NumberOpts {
  min?: number
  max?: number
}

export const str = (def: string, doc: string, opts: { secret?: boolean } = {}): FieldSpec<string> => ({
  kind: 'field',
  type: 'string',
  default: def,
  doc,
  ...opts,
})

export const secret = (def: string, doc: string): FieldSpec<string> => str(def, doc, { secret: true })

export const int = (def: number, doc: string, opts: NumberOpts = {}): FieldSpec<number> => ({
  kind: 'field',
  type: 'integer',
  default: def,
  doc,
  ...opts,
})

export const num = (def: number, doc: string, opts: NumberOpts = {}): FieldSpec<number> => ({
  kind: 'field',
  type: 'number',
  default: def,
  doc,
  ...opts,
})

export const bool = (def: boolean, doc: string): FieldSpec<boolean> => ({ kind: 'field', type: 'boolean', default: def, doc })

export const oneOf = <const V extends readonly string[]>(values: V, def: V[number], doc: string): FieldSpec<V[number]> => ({
  kind: 'field',
  type: 'enum',
  values,
  default: def,
  doc,
})

/** A list of strings; from the environment or a flag it is written comma-separated. */
export const list = (def: string[], doc: string): FieldSpec<string[]> => ({ kind: 'field', type: 'list', default: def, doc })

export function isField(node: FieldSpec | Section): node is FieldSpec {
  return (node as FieldSpec).kind === 'field'
}

export interface LeafInfo {
  path: string
  spec: FieldSpec
  env: string
}

/** Every field of a schema with its dotted path and environment variable, in declaration order. */
export function leaves(section: Section, prefix = ''): LeafInfo[] {
  const out: LeafInfo[] = []
  for (const [key, node] of Object.entries(section)) {
    const path = prefix ? `${prefix}.${key}` : key
    if (isField(node)) out.push({ path, spec: node, env: envName(path) })
    else out.push(...leaves(node, path))
  }
  return out
}

/** `bus.kafka.requestTimeoutMs` → `AIOPS_BUS_KAFKA_REQUEST_TIMEOUT_MS`. */
export function envName(path: string): string {
  return (
    'AIOPS_' +
    path
      .split('.')
      .map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('_')
  )
}

/** What a field accepts, in words, for error messages and docs. */
export function describeAccepted(spec: FieldSpec): string {
  switch (spec.type) {
    case 'enum':
      return `one of ${spec.values!.join(', ')}`
    case 'integer':
    case 'number': {
      const what = spec.type === 'integer' ? 'an integer' : 'a number'
      if (spec.min !== undefined && spec.max !== undefined) return `${what} from ${spec.min} to ${spec.max}`
      if (spec.min !== undefined) return `${what} ≥ ${spec.min}`
      return what
    }
    case 'boolean':
      return 'true or false'
    case 'list':
      return 'a list of strings (comma-separated in environment variables and flags)'
    default:
      return 'a string'
  }
}
