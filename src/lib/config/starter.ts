/**
 * The commented starter file written by `aiops config init`: every field with its default, commented out,
 * with what it does and its environment variable, so editing one line is all a change takes.
 */
import { describeAccepted, isField, type Section, envName } from './fields.js'
import { configSchema } from './schema.js'

function yamlScalar(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`
  if (typeof v === 'string') return v === '' || /[:#{}[\],&*!|>'"%@`]|^\s|\s$/.test(v) ? JSON.stringify(v) : v
  return String(v)
}

function render(section: Section, prefix: string, depth: number, lines: string[]): void {
  const pad = '  '.repeat(depth)
  for (const [key, node] of Object.entries(section)) {
    const p = prefix ? `${prefix}.${key}` : key
    if (isField(node)) {
      lines.push(`${pad}# ${node.doc} Accepts ${describeAccepted(node)}. Env: ${envName(p)}`)
      lines.push(`${pad}# ${key}: ${node.secret ? '""  # put secrets in the environment, not in this file' : yamlScalar(node.default)}`)
    } else {
      // Sections stay uncommented so uncommenting a field is a one-line change that parses.
      lines.push(`${pad}${key}:`)
      render(node, p, depth + 1, lines)
    }
  }
}

export function starterConfig(): string {
  const lines = [
    '# aiops configuration. Precedence: flags > AIOPS_* environment > this file > defaults.',
    '# `aiops config show` prints the resolved values and where each came from.',
    '# Every field below is commented out at its default; uncomment and edit what you need.',
    '',
  ]
  render(configSchema, '', 0, lines)
  return lines.join('\n') + '\n'
}
