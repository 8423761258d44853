/**
 * Load profiles from the design documents' load-testing table, turned into stages (for the schedule) and windows
 * (the spans of the run each verdict is computed over):
 * - baseline: one steady rate ("establish normal performance");
 * - stress: the rate stepped up until a threshold breaks; the knee is the last step that met them all;
 * - spike: a steady base, a sudden × N burst, then the base again; recovery time is measured after the burst;
 * - soak: a long steady run cut into windows, to show drift of latency and error rate;
 * - custom: stages given explicitly as RATE:DURATION[:RAMP].
 */
import { ConfigError, UsageError } from '../errors.js'
import { parseDurationS } from './duration.js'
import type { Stage } from './schedule.js'

export type ProfileName = 'baseline' | 'stress' | 'spike' | 'soak' | 'custom'
export const PROFILES: readonly ProfileName[] = ['baseline', 'stress', 'spike', 'soak', 'custom']

export interface Window {
  name: string
  kind: 'run' | 'step' | 'phase' | 'soak'
  fromS: number
  toS: number
  /** The planned arrival rate in the window (its end rate for ramps). */
  rate: number
  /** Seconds at the window start left out of its verdict: the target settles after a step change. */
  settleS: number
}

export interface Plan {
  profile: ProfileName
  stages: Stage[]
  windows: Window[]
  durationS: number
}

export interface ProfileSettings {
  profile: ProfileName
  rate: number
  /** Empty: the profile's default (baseline 30s, soak from soak.duration). */
  duration: string
  stages: readonly string[]
  stress: { stepRate: number; stepDuration: string; maxSteps: number }
  spike: { multiplier: number; warmup: string; duration: string; recovery: string }
  soak: { duration: string; windows: number }
}

export const DEFAULT_BASELINE_DURATION = '30s'

/** `200:30s` or `500:1m:10s` → a stage; `field` is named in errors. */
export function parseStage(text: string, field: string): Stage {
  const parts = text.trim().split(':')
  const rate = Number(parts[0])
  if (parts.length < 2 || parts.length > 3 || !Number.isFinite(rate) || rate < 0) {
    throw new ConfigError(field, `${field}: stage "${text}" is not RATE:DURATION[:RAMP]`, {
      suggestions: ['e.g. --stage 100:30s (hold 100 req/s for 30 s), --stage 500:1m:10s (ramp to 500 req/s over 10 s, then hold)'],
    })
  }
  const durationS = parseDurationS(parts[1]!, field)
  const rampS = parts[2] === undefined ? 0 : parseDurationS(parts[2], field)
  if (durationS <= 0) throw new ConfigError(field, `${field}: stage "${text}" has no duration`, { suggestions: ['give each stage a duration > 0, e.g. 100:30s'] })
  if (rampS > durationS) {
    throw new ConfigError(field, `${field}: stage "${text}" ramps for longer than it lasts`, { suggestions: ['the ramp is part of the stage: RAMP ≤ DURATION'] })
  }
  return { rate, durationS, rampS }
}

export function buildPlan(s: ProfileSettings): Plan {
  if (s.stages.length > 0 && s.profile !== 'custom' && s.profile !== 'baseline') {
    throw new UsageError(`--stage replaces the ${s.profile} profile's own stages; the two cannot be combined`, {
      suggestions: [`drop --stage to run the ${s.profile} profile, or drop --profile ${s.profile} to run your stages`],
    })
  }
  if (s.stages.length > 0 || s.profile === 'custom') return customPlan(s)
  switch (s.profile) {
    case 'baseline':
      return steady('baseline', s.rate, parseDurationS(s.duration || DEFAULT_BASELINE_DURATION, 'loadtest.duration'), 1)
    case 'soak':
      return steady('soak', s.rate, parseDurationS(s.duration || s.soak.duration, s.duration ? 'loadtest.duration' : 'loadtest.soak.duration'), s.soak.windows)
    case 'stress':
      return stressPlan(s)
    case 'spike':
      return spikePlan(s)
  }
}

function finish(profile: ProfileName, stages: Stage[], windows: Window[]): Plan {
  const durationS = stages.reduce((sum, st) => sum + st.durationS, 0)
  if (durationS <= 0) throw new ConfigError('loadtest.duration', 'the run has no duration', { suggestions: ['give --duration, e.g. 30s'] })
  return { profile, stages, windows, durationS }
}

function steady(profile: 'baseline' | 'soak', rate: number, durationS: number, windows: number): Plan {
  const stages = [{ rate, durationS, rampS: 0 }]
  if (profile === 'baseline') return finish(profile, stages, [{ name: 'baseline', kind: 'run', fromS: 0, toS: durationS, rate, settleS: 0 }])
  const n = Math.max(2, Math.min(windows, Math.floor(durationS)))
  const w = durationS / n
  return finish(
    profile,
    stages,
    Array.from({ length: n }, (_, i) => ({ name: `window ${i + 1}`, kind: 'soak' as const, fromS: i * w, toS: (i + 1) * w, rate, settleS: 0 })),
  )
}

function stressPlan(s: ProfileSettings): Plan {
  const stepS = parseDurationS(s.stress.stepDuration, 'loadtest.stress.stepDuration')
  const step = s.stress.stepRate > 0 ? s.stress.stepRate : s.rate
  const stages: Stage[] = []
  const windows: Window[] = []
  for (let i = 0; i < s.stress.maxSteps; i++) {
    const rate = s.rate + i * step
    stages.push({ rate, durationS: stepS, rampS: 0 })
    // The first seconds after a step carry the previous step's backlog; leave them out of the step's verdict.
    windows.push({ name: `step ${i + 1}`, kind: 'step', fromS: i * stepS, toS: (i + 1) * stepS, rate, settleS: Math.min(2, stepS * 0.2) })
  }
  return finish('stress', stages, windows)
}

function spikePlan(s: ProfileSettings): Plan {
  const warmS = parseDurationS(s.spike.warmup, 'loadtest.spike.warmup')
  const spikeS = parseDurationS(s.spike.duration, 'loadtest.spike.duration')
  const recoverS = parseDurationS(s.spike.recovery, 'loadtest.spike.recovery')
  const peak = s.rate * s.spike.multiplier
  const stages: Stage[] = [
    { rate: s.rate, durationS: warmS, rampS: 0 },
    { rate: peak, durationS: spikeS, rampS: 0 },
    { rate: s.rate, durationS: recoverS, rampS: 0 },
  ]
  const windows: Window[] = [
    { name: 'before', kind: 'phase', fromS: 0, toS: warmS, rate: s.rate, settleS: Math.min(2, warmS * 0.2) },
    { name: 'spike', kind: 'phase', fromS: warmS, toS: warmS + spikeS, rate: peak, settleS: 0 },
    { name: 'after', kind: 'phase', fromS: warmS + spikeS, toS: warmS + spikeS + recoverS, rate: s.rate, settleS: 0 },
  ]
  return finish('spike', stages, windows)
}

function customPlan(s: ProfileSettings): Plan {
  if (s.stages.length === 0) {
    throw new UsageError('the custom profile needs stages', { suggestions: ['give --stage RATE:DURATION[:RAMP] once per stage, e.g. --stage 100:30s --stage 500:1m:10s'] })
  }
  const stages = s.stages.map((text) => parseStage(text, 'loadtest.stages'))
  let t = 0
  const windows = stages.map((st, i) => {
    const w: Window = { name: `stage ${i + 1}`, kind: 'step', fromS: t, toS: t + st.durationS, rate: st.rate, settleS: st.rampS }
    t += st.durationS
    return w
  })
  return finish('custom', stages, windows)
}
