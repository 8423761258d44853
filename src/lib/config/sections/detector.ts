/**
 * Configuration of `aiops agent detector` (and of `aiops detector eval`, which scores with the same engine).
 * Numbers from the design documents where they give them: max batch 64, max wait 50 ms, the ml_inference
 * breaker 5/2/30 s (breakerDefaults), the 100K / 20K / 50K checks/s per-tier sizing. Every other default is
 * explained in docs/detector.md.
 */
import { int, list, num, oneOf, str } from '../fields.js'

export const detectorSection = {
  group: str('aiops-detector', 'Consumer group on bus.topics.metrics; detector instances in one group share the partitions.'),
  defaultTier: oneOf(['basic', 'agile', 'robust'] as const, 'basic', 'Tier for series no detector.tiers entry matches.'),
  tiers: list(
    [],
    'Tier per tenant or metric pattern, first match wins: "[tenant/]metricGlob=basic|agile|robust", e.g. "acme/http.server.*=robust".',
  ),
  rules: list(
    [],
    'Static thresholds, the last fallback (degradation level 2): "[tenant/]metricGlob>N" (or >=, <, <=), e.g. "http.server.errors>10".',
  ),
  maxSeries: int(100000, 'Most series with state in memory; the least recently seen is evicted (counted) past it.', { min: 1 }),
  warmupPoints: int(20, 'Points a series must have before it is scored.', { min: 2 }),
  windowPoints: int(32, 'Points in the robust median/MAD window of the statistical tiers.', { min: 4, max: 1024 }),
  ewmaAlpha: num(0.3, 'Smoothing of the EWMA that catches small sustained shifts (higher reacts faster, noisier).', { min: 0.01, max: 1 }),
  maxGapPoints: int(60, 'A gap longer than this many sampling intervals restarts a series (warm-up again).', { min: 1 }),
  openScore: num(0.9999, 'Calibrated score at which an anomaly opens (1 − false alarms per normal point).', { min: 0.5, max: 1 }),
  closeScore: num(0.95, 'An open anomaly closes after closeAfterPoints points below this score.', { min: 0, max: 1 }),
  closeAfterPoints: int(20, 'Consecutive points below closeScore that close an open anomaly.', { min: 1 }),
  updateIntervalS: int(300, 'Least series time between two update records of one open anomaly.', { min: 0 }),
  agile: {
    minPeriod: int(4, 'Shortest seasonal period looked for, in points.', { min: 2 }),
    maxPeriod: int(288, 'Longest seasonal period looked for, in points (history kept: 3 × this per agile series).', { min: 4, max: 10080 }),
    minAcf: num(0.3, 'Autocorrelation a period needs to count as seasonality.', { min: 0, max: 1 }),
  },
  robust: {
    modelPath: str('', 'ONNX model of the robust tier; empty: models/spectral-residual.onnx shipped with aiops.'),
    device: oneOf(['cpu', 'cuda'] as const, 'cpu', 'Execution provider: cuda when its binaries and a GPU are there, else CPU (logged once).'),
    threads: int(1, 'ORT intra-op threads per session.', { min: 1, max: 256 }),
    maxBatch: int(64, 'Dynamic batcher: most windows per model run.', { min: 1, max: 4096 }),
    maxWaitMs: int(50, 'Dynamic batcher: longest a window waits for its batch to fill.', { min: 0 }),
    queueCapacity: int(8192, 'Dynamic batcher: most windows waiting; more are scored statistically (counted as queue_full).', { min: 1 }),
    deadlineMs: int(1000, 'A window still waiting after this long is scored statistically instead (counted as deadline).', { min: 1 }),
    maxInFlight: int(1, 'Model runs at once (1 on CPU; 2–4 lets a GPU overlap copies and compute).', { min: 1, max: 64 }),
  },
}
