import { describe, expect, it } from 'vitest'
import { AiopsError, ConfigError, DependencyError, ExitCode, isRetriable, toAiopsError } from '../../src/lib/errors.js'

describe('error hierarchy', () => {
  it('config errors exit 2, are not retriable and name the field', () => {
    const err = new ConfigError('bus.backend', 'bus.backend: "rabbit" is not accepted; use memory or kafka')
    expect(err.exitCode).toBe(ExitCode.usage)
    expect(err.retriable).toBe(false)
    expect(err.toJSON()).toMatchObject({ code: 'AIOPS_CONFIG_INVALID', details: { field: 'bus.backend' } })
  })
  it('dependency errors are retriable, programming errors never', () => {
    expect(isRetriable(new DependencyError('redis', 'ECONNREFUSED'))).toBe(true)
    expect(isRetriable(new TypeError('x is not a function'))).toBe(false)
  })
  it('wraps foreign errors keeping the cause', () => {
    const e = toAiopsError(new Error('boom'))
    expect(e).toBeInstanceOf(AiopsError)
    expect(e.toJSON().cause).toBe('boom')
  })
})
