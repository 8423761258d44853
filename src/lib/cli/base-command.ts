/**
 * The base of every aiops command: shared flags, config resolution, and the one top-level error handler.
 * Commands stay thin: parse flags → call src/lib or src/agents → return typed data (printed by oclif for --json).
 */
import { Command, Flags, type Interfaces } from '@oclif/core'
import { AiopsError, ExitCode, UsageError, toAiopsError, type ErrorEnvelope } from '../errors.js'
import { resolveConfig, type FlagOverride, type ResolvedConfig } from '../config/index.js'
import { redact, redactUrl } from '../config/redact.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    config: Flags.string({
      char: 'c',
      summary: 'Config file (YAML or JSON). Default: aiops.config.{yaml,yml,json,js} in the working directory, or AIOPS_CONFIG.',
      helpGroup: 'GLOBAL',
    }),
    'log-level': Flags.string({
      summary: 'Lowest level of the JSON log lines on stderr (overrides log.level).',
      options: ['debug', 'info', 'warn', 'error', 'silent'],
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: BaseFlags<T>

  public override async init(): Promise<void> {
    await super.init()
    const { flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
  }

  /** Resolves configuration with this command's flag overrides (dotted config path → flag value). */
  protected async loadConfig(overrides: Record<string, FlagOverride | undefined> = {}): Promise<ResolvedConfig> {
    const resolved = await resolveConfig({
      configPath: this.flags.config,
      flags: { 'log.level': flagValue(this.flags['log-level'], '--log-level'), ...overrides },
    })
    for (const w of resolved.warnings) this.logToStderr(`warning: ${w}`)
    return resolved
  }

  /**
   * The only place aiops errors become exit codes. With --json the error is a JSON envelope on stdout,
   * otherwise a message and its suggestions on stderr.
   */
  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<never> {
    // `this.exit()` works by throwing; let it pass through untouched.
    if (err.oclif?.exit !== undefined && err.constructor.name === 'ExitError') throw err
    const e = asAiopsError(err)
    if (this.jsonEnabled()) {
      const envelope: ErrorEnvelope = { ok: false, error: redact(e.toJSON()) }
      // oclif's log() is muted under --json; the envelope is the command's output, so it goes to stdout directly.
      process.stdout.write(JSON.stringify(envelope, null, 2) + '\n')
    } else {
      this.logToStderr(`Error [${e.code}]: ${redactUrl(e.message)}`)
      for (const s of e.suggestions) this.logToStderr(`  → ${s}`)
    }
    return this.exit(e.exitCode)
  }
}

/** Flag parsing errors from oclif (unknown flag, bad option) are usage errors: exit 2. */
function asAiopsError(err: Error & { oclif?: { exit?: number } }): AiopsError {
  if (err instanceof AiopsError) return err
  const name = err.constructor?.name ?? ''
  if (/Flag|Arg|Parse|Validation|Options/i.test(name) || err.oclif?.exit === ExitCode.usage) {
    return new UsageError(err.message.split('\n')[0] ?? err.message, { suggestions: ['run the command with --help for its flags'] })
  }
  return toAiopsError(err)
}

/** A flag override for resolveConfig, or undefined when the flag was not given. */
export function flagValue(value: unknown, flag: string): FlagOverride | undefined {
  return value === undefined ? undefined : { value, flag }
}
