/**
 * Configuration of `aiops loadtest`: every flag has a field here, so a CI pipeline can keep its load test in the
 * config file and run `aiops loadtest` bare. Durations are strings with units (30s, 5m); rates are requests/s.
 */
import { bool, int, list, num, oneOf, secret, str, type Section } from '../fields.js'

export const loadtestSection = {
  target: str('http://127.0.0.1:4318', 'URL under load: the gateway (OTLP/HTTP), the router, or any HTTP endpoint.'),
  kind: oneOf(
    ['auto', 'gateway', 'router', 'http'] as const,
    'auto',
    'What to send. auto: gateway for port 4318 or a /v1/{traces,metrics,logs} path, router for ports 8123/8124, otherwise plain http.',
  ),
  profile: oneOf(['baseline', 'stress', 'spike', 'soak', 'custom'] as const, 'baseline', 'Load shape (see docs/loadtest.md); custom needs stages.'),
  rate: num(100, 'Arrival rate, requests/s: the steady rate (baseline, soak), the base (spike), the first step (stress).', { min: 0.001 }),
  duration: str('', 'Run length for baseline and soak, e.g. 30s, 5m; empty: 30s for baseline, soak.duration for soak.'),
  stages: list([], 'Explicit stages RATE:DURATION[:RAMP], e.g. 100:30s,500:1m:10s (custom profile).'),
  thresholds: list(
    [],
    'Pass/fail expressions, e.g. p99<200ms, error_rate<1%; empty: the SLO table for the target kind plus error_rate<1% and drop_rate<1%.',
  ),
  abortOnFail: bool(false, 'Stop as soon as a threshold is breached on the data so far (after abortDelay), exit 99.'),
  abortDelay: str('5s', 'abortOnFail judges nothing before this much of the run has passed (early percentiles are noisy).'),
  workers: int(0, 'Load-generating processes; 0: one per 20k requests/s of the peak rate, at most one per core.', { min: 0, max: 512 }),
  seed: int(1, 'Seed of the generated telemetry and query mix: the same seed sends the same requests.', { min: 0 }),
  connections: int(64, 'Connections (requests on the wire at once), across all workers.', { min: 1, max: 100000 }),
  maxInFlight: int(10000, 'Requests queued or on the wire before new ones are dropped (counted), across all workers.', { min: 1 }),
  timeout: str('10s', 'A request without a response after this long fails with "timeout".'),
  timing: oneOf(
    ['auto', 'precise', 'coarse'] as const,
    'auto',
    'Send-time precision. precise: sub-ms (spins the last ms of each wait; costs CPU); coarse: libuv ms timers (up to ~1 ms late, counted as latency); auto: precise up to 200 requests/s per worker.',
  ),
  client: oneOf(['raw', 'http', 'fetch'] as const, 'raw', 'HTTP client: raw keep-alive sockets (fastest), node:http, or fetch.'),
  apiKey: secret('', 'API key for the gateway and router outside open mode, sent as Authorization: Bearer KEY (both accept it). Prefer AIOPS_LOADTEST_API_KEY to a flag.'),
  report: str('', 'Write a self-contained HTML report here (charts, no network needed to view it).'),
  progressInterval: str('5s', 'How often a progress line is printed when stderr is not a terminal (CI logs).'),
  http: {
    method: str('GET', 'Plain HTTP target: request method.'),
    headers: list([], 'Headers sent with every request (all targets), as "Name: value".'),
    body: str('', 'Plain HTTP target: request body.'),
  },
  gateway: {
    encoding: oneOf(['json', 'protobuf'] as const, 'json', 'OTLP/HTTP body encoding.'),
    signals: list(['traces', 'metrics', 'logs'], 'Signals in the mix, optionally weighted: traces:2,metrics:1,logs:1.'),
    services: int(20, 'Services in the generated service graph.', { min: 1, max: 10000 }),
    spansPerTrace: int(12, 'Most spans in one generated trace.', { min: 1, max: 1000 }),
    tracesPerRequest: int(5, 'Traces in one /v1/traces request.', { min: 1, max: 10000 }),
    metricsPerRequest: int(50, 'Metric data points in one /v1/metrics request.', { min: 1, max: 100000 }),
    logsPerRequest: int(20, 'Log records in one /v1/logs request.', { min: 1, max: 100000 }),
    errorFraction: num(0.02, 'Share of traces (and log records) that carry an error.', { min: 0, max: 1 }),
    slowFraction: num(0.05, 'Share of traces with one span 10–50× slower than usual.', { min: 0, max: 1 }),
  },
  router: {
    sqlFraction: num(0.3, 'Share of router requests that are raw SQL over the ClickHouse HTTP protocol; the rest use the JSON API.', { min: 0, max: 1 }),
    hot: num(0.7, 'Weight of queries over the last hour (hot tier).', { min: 0 }),
    warm: num(0.25, 'Weight of queries between an hour and a week old (warm tier).', { min: 0 }),
    cold: num(0.05, 'Weight of queries older than a week (cold tier).', { min: 0 }),
    tenant: str('default', 'Tenant the generated queries ask about.'),
    database: str('aiops', 'Database named in raw SQL requests.'),
  },
  stress: {
    stepRate: num(0, 'Rate added per step; 0: the starting rate (100, 200, 300 … for --rate 100).', { min: 0 }),
    stepDuration: str('20s', 'Length of each step.'),
    maxSteps: int(10, 'Most steps before the run ends without finding the knee.', { min: 1, max: 1000 }),
  },
  spike: {
    multiplier: num(10, 'Spike rate as a multiple of --rate.', { min: 1 }),
    warmup: str('20s', 'Time at the base rate before the spike (the recovery reference).'),
    duration: str('10s', 'Length of the spike.'),
    recovery: str('30s', 'Time at the base rate after the spike, in which recovery is measured.'),
  },
  soak: {
    duration: str('30m', 'Length of a soak run (overridden by duration).'),
    windows: int(10, 'Windows the soak is cut into to measure drift.', { min: 2, max: 1000 }),
  },
} satisfies Section
