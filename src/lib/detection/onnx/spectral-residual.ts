/**
 * The robust tier's model: spectral-residual (SR) saliency (Ren et al., "Time-Series Anomaly Detection Service
 * at Microsoft", KDD 2019) as an ONNX graph of standard ops. No training: the model is pure signal processing,
 * which is why it can be built here, reproducibly, from code, and why it batches perfectly (one MatMul chain).
 *
 * Per window x (the last WINDOW points of one series, oldest first), for the last point:
 *   1. normalise: (x − mean) / (std + 1e-3·mean|x| + 1e-9)  — SR is scale-free; this only conditions float32;
 *   2. extend by EXTEND estimated points so the point of interest is not at the edge of the transform. The
 *      estimate is the paper's average-gradient one taken one point back, as Microsoft's msanomalydetector
 *      does: x̂ = x[n−m] + Σ_{i=1..m} (x[n−1] − x[n−1−i]) / i. Leaving x[n] out matters: a spike at x[n]
 *      would otherwise be extrapolated 2.3× larger after itself and hide in its own echo;
 *   3. DFT (MatMul with constant cos/sin matrices), amplitude A, log-amplitude L;
 *   4. spectral residual R = L − trailing average of L over AVG_FILTER bins (the DC bin is left out: the mean
 *      was removed, so its log amplitude is meaningless);
 *   5. saliency = |inverse DFT(exp(R) · phase)|;
 *   6. score = |saliency[last] − mean(saliency of the LOCAL points before it)| / that mean.
 * Every linear step is a constant matrix, so the graph is MatMul/Mul/Add/Sub/Div/Sqrt/Log/Exp/Abs only, and
 * the batch dimension is symbolic. `referenceScore` computes the same in float64 JS for the tests.
 */
import { ElemType, encodeModel, GraphBuilder, type ModelSpec } from './onnx-model.js'

export const SR = {
  /** Points per window (the model's input width). */
  window: 64,
  /** Estimated points appended after the window. */
  extend: 5,
  /** Trailing moving-average width over the log-amplitude spectrum. */
  avgFilter: 3,
  /** Saliency points before the last one that make its local average. */
  local: 21,
  /** Amplitude floor (normalised units): keeps Log finite and phase division tame on flat spectra. */
  amplitudeFloor: 1e-4,
} as const

export const SR_MODEL_NAME = 'spectral-residual'
export const SR_INPUT = 'windows'
export const SR_OUTPUT = 'scores'
/** Bumped when the graph changes, so a stale committed model is caught by the build check. */
export const SR_MODEL_VERSION = '1'

const N = SR.window + SR.extend

/** Row-major [rows, cols] matrix. */
function matrix(rows: number, cols: number, f: (r: number, c: number) => number): Float32Array {
  const m = new Float32Array(rows * cols)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) m[r * cols + c] = f(r, c)
  return m
}

/** Weight of x[j] in the extension value x̂ (linear in x; the last point has weight 0, see step 2). */
function extensionWeights(): Float64Array {
  const n = SR.window - 2
  const m = SR.extend
  const w = new Float64Array(SR.window)
  w[n - m + 1]! += 1
  for (let i = 1; i <= m; i++) {
    w[n]! += 1 / i
    w[n - i]! -= 1 / i
  }
  return w
}

/** Trailing average over the log spectrum: column k averages bins max(1, k−q+1)..k; bin 0 passes through. */
function avgFilterWeight(j: number, k: number): number {
  if (k === 0) return j === 0 ? 1 : 0
  const lo = Math.max(1, k - SR.avgFilter + 1)
  return j >= lo && j <= k ? 1 / (k - lo + 1) : 0
}

export function buildSpectralResidualModel(): Uint8Array {
  const g = new GraphBuilder()
  const W = SR.window
  const target = W - 1
  const ext = extensionWeights()
  const angle = (k: number, n: number): number => (2 * Math.PI * k * n) / N

  const center = g.constant('center', [W, W], matrix(W, W, (r, c) => (r === c ? 1 : 0) - 1 / W))
  const meanVec = g.constant('mean_vec', [W, 1], new Float32Array(W).fill(1 / W))
  const relFloor = g.constant('rel_floor', [1], [1e-3])
  const absFloor = g.constant('abs_floor', [1], [1e-9])
  const extend = g.constant('extend', [W, N], matrix(W, N, (r, c) => (c < W ? (r === c ? 1 : 0) : ext[r]!)))
  const cos = g.constant('dft_cos', [N, N], matrix(N, N, (n, k) => Math.cos(angle(k, n))))
  const negSin = g.constant('dft_neg_sin', [N, N], matrix(N, N, (n, k) => -Math.sin(angle(k, n))))
  const avg = g.constant('avg_filter', [N, N], matrix(N, N, avgFilterWeight))
  const floor2 = g.constant('amp_floor_sq', [1], [SR.amplitudeFloor ** 2])
  // Inverse DFT without the DC bin (row k = 0 zeroed): the centred window has no mean to give back.
  const icos = g.constant('idft_cos', [N, N], matrix(N, N, (k, n) => (k === 0 ? 0 : Math.cos(angle(k, n)) / N)))
  const isin = g.constant('idft_sin', [N, N], matrix(N, N, (k, n) => (k === 0 ? 0 : Math.sin(angle(k, n)) / N)))
  const pick = g.constant('pick_last', [N, 1], matrix(N, 1, (r) => (r === target ? 1 : 0)))
  const local = g.constant('local_mean', [N, 1], matrix(N, 1, (r) => (r >= target - SR.local && r < target ? 1 / SR.local : 0)))
  const eps = g.constant('eps', [1], [1e-9])
  const flat = g.int64Constant('flat_shape', [-1])

  // 1. normalise
  const centred = g.op('MatMul', [SR_INPUT, center], 'centred')
  const variance = g.op('MatMul', [g.op('Mul', [centred, centred], 'sq'), meanVec], 'variance')
  const absMean = g.op('MatMul', [g.op('Abs', [SR_INPUT], 'abs_x'), meanVec], 'abs_mean')
  const scale = g.op('Add', [g.op('Add', [g.op('Sqrt', [variance], 'std'), g.op('Mul', [absMean, relFloor], 'rel')], 'scale0'), absFloor], 'scale')
  const xn = g.op('Div', [centred, scale], 'normalised')
  // 2–3. extend, DFT
  const xe = g.op('MatMul', [xn, extend], 'extended')
  const re = g.op('MatMul', [xe, cos], 're')
  const im = g.op('MatMul', [xe, negSin], 'im')
  const power = g.op('Add', [g.op('Add', [g.op('Mul', [re, re], 're2'), g.op('Mul', [im, im], 'im2')], 'power0'), floor2], 'power')
  const amp = g.op('Sqrt', [power], 'amplitude')
  // 4. spectral residual; exp(R)/A rescales each bin while keeping its phase (re/A, im/A).
  const logAmp = g.op('Log', [amp], 'log_amp')
  const residual = g.op('Sub', [logAmp, g.op('MatMul', [logAmp, avg], 'avg_log_amp')], 'residual')
  const gain = g.op('Div', [g.op('Exp', [residual], 'exp_residual'), amp], 'gain')
  const re2 = g.op('Mul', [re, gain], 're_sr')
  const im2 = g.op('Mul', [im, gain], 'im_sr')
  // 5. inverse DFT and magnitude
  const yr = g.op('Sub', [g.op('MatMul', [re2, icos], 'yr_a'), g.op('MatMul', [im2, isin], 'yr_b')], 'y_re')
  const yi = g.op('Add', [g.op('MatMul', [re2, isin], 'yi_a'), g.op('MatMul', [im2, icos], 'yi_b')], 'y_im')
  const sal = g.op('Sqrt', [g.op('Add', [g.op('Mul', [yr, yr], 'yr2'), g.op('Mul', [yi, yi], 'yi2')], 'sal2')], 'saliency')
  // 6. score of the last point against its local average
  const last = g.op('MatMul', [sal, pick], 'sal_last')
  const mean = g.op('MatMul', [sal, local], 'sal_local')
  const score = g.op('Div', [g.op('Abs', [g.op('Sub', [last, mean], 'diff')], 'abs_diff'), g.op('Add', [mean, eps], 'denom')], 'score')
  g.op('Reshape', [score, flat], 'out', undefined, SR_OUTPUT)

  const spec: ModelSpec = {
    graphName: SR_MODEL_NAME,
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: [{ name: SR_INPUT, elemType: ElemType.FLOAT, shape: ['batch', W] }],
    outputs: [{ name: SR_OUTPUT, elemType: ElemType.FLOAT, shape: ['batch'] }],
    opset: 17,
    irVersion: 8,
    producerName: 'aiops',
    producerVersion: SR_MODEL_VERSION,
    docString: `Spectral-residual saliency score of the last point of each ${W}-point window (aiops detector, robust tier).`,
    metadata: { 'aiops.model': SR_MODEL_NAME, 'aiops.window': String(W), 'aiops.version': SR_MODEL_VERSION },
  }
  return encodeModel(spec)
}

/** The same computation in float64 JS: the tests hold the ONNX graph to it. */
export function referenceScore(window: ArrayLike<number>): number {
  const W = SR.window
  if (window.length !== W) throw new RangeError(`window must have ${W} points, got ${window.length}`)
  let mean = 0
  let absMean = 0
  for (let i = 0; i < W; i++) {
    mean += window[i]! / W
    absMean += Math.abs(window[i]!) / W
  }
  let variance = 0
  for (let i = 0; i < W; i++) variance += (window[i]! - mean) ** 2 / W
  const scale = Math.sqrt(variance) + 1e-3 * absMean + 1e-9
  const x = new Float64Array(N)
  for (let i = 0; i < W; i++) x[i] = (window[i]! - mean) / scale
  const ext = extensionWeights()
  let est = 0
  for (let i = 0; i < W; i++) est += ext[i]! * x[i]!
  for (let i = W; i < N; i++) x[i] = est
  const re = new Float64Array(N)
  const im = new Float64Array(N)
  for (let k = 0; k < N; k++) {
    for (let n = 0; n < N; n++) {
      const a = (2 * Math.PI * k * n) / N
      re[k]! += x[n]! * Math.cos(a)
      im[k]! -= x[n]! * Math.sin(a)
    }
  }
  const amp = re.map((r, k) => Math.sqrt(r * r + im[k]! ** 2 + SR.amplitudeFloor ** 2))
  const logAmp = amp.map(Math.log)
  const gain = new Float64Array(N)
  for (let k = 0; k < N; k++) {
    let avg = 0
    for (let j = 0; j < N; j++) avg += avgFilterWeight(j, k) * logAmp[j]!
    gain[k] = Math.exp(logAmp[k]! - avg) / amp[k]!
  }
  const sal = new Float64Array(N)
  for (let n = 0; n < N; n++) {
    let yr = 0
    let yi = 0
    for (let k = 1; k < N; k++) {
      const a = (2 * Math.PI * k * n) / N
      const r2 = re[k]! * gain[k]!
      const i2 = im[k]! * gain[k]!
      yr += (r2 * Math.cos(a) - i2 * Math.sin(a)) / N
      yi += (r2 * Math.sin(a) + i2 * Math.cos(a)) / N
    }
    sal[n] = Math.hypot(yr, yi)
  }
  const t = W - 1
  let local = 0
  for (let n = t - SR.local; n < t; n++) local += sal[n]! / SR.local
  return Math.abs(sal[t]! - local) / (local + 1e-9)
}
