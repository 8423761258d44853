/** Resilience toolkit: injected clocks, retry with backoff and deadlines, circuit breakers, backpressure. */
export { type Clock, ManualClock, systemClock } from './clock.js'
export {
  DEFAULT_JITTER,
  type RetryOptions,
  type RetryPolicy,
  backoffDelay,
  nominalDelays,
  parseRetryAfter,
  retry,
  retryAfterOf,
  retryPolicies,
} from './retry.js'
export {
  type BreakerName,
  type BreakerSettings,
  type BreakerSnapshot,
  type BreakerState,
  CircuitBreaker,
  type CircuitBreakerOptions,
  breakerDefaults,
  breakersOf,
  breakerStateValue,
  defaultIsFailure,
} from './breaker.js'
export {
  BackpressureController,
  type BackpressureOptions,
  type BackpressureSources,
  type BackpressureThresholds,
  type SampleEvent,
  hashUnit,
} from './backpressure.js'
