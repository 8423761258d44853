import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../../lib/cli/base-command.js'
import { starterConfig } from '../../lib/config/index.js'
import { UsageError } from '../../lib/errors.js'

export interface ConfigInitResult {
  path: string
  bytes: number
}

export default class ConfigInit extends BaseCommand<typeof ConfigInit> {
  static summary = 'Write a commented starter config file (every field at its default).'
  static examples = ['<%= config.bin %> config init', '<%= config.bin %> config init --path deploy/aiops.config.yaml --force']

  static flags = {
    path: Flags.string({ summary: 'Where to write it.', default: 'aiops.config.yaml' }),
    force: Flags.boolean({ summary: 'Overwrite an existing file.', default: false }),
  }

  async run(): Promise<ConfigInitResult> {
    const target = path.resolve(this.flags.path)
    if (existsSync(target) && !this.flags.force) {
      throw new UsageError(`${target} already exists`, { code: 'AIOPS_FILE_EXISTS', suggestions: ['pass --force to overwrite it, or --path to write elsewhere'] })
    }
    const text = starterConfig()
    await writeFile(target, text)
    if (!this.jsonEnabled()) this.log(`wrote ${target}; edit it, then check with: aiops config show`)
    return { path: target, bytes: Buffer.byteLength(text) }
  }
}
