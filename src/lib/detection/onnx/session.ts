/**
 * Loading the robust tier's ONNX model into onnxruntime-node, once per process, on the device asked for.
 *
 * - `device: 'cuda'` uses the CUDA execution provider when its binaries are installed and a session can be
 *   created with it; otherwise the CPU provider, with ONE log line saying why (the npm package bundles CPU
 *   only; the CUDA provider is a separate download: see docs/detector.md).
 * - A missing, unreadable, corrupt or wrong-shaped model file is not a crash: the result says why, and the
 *   caller runs the statistical tier instead (degradation level 1).
 * onnxruntime-node is imported lazily: agents and commands that never use the robust tier don't load it.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { InferenceSession, Tensor } from 'onnxruntime-node'
import type { Logger } from '../../telemetry/index.js'
import { SR, SR_INPUT, SR_OUTPUT } from './spectral-residual.js'

export type Device = 'cpu' | 'cuda'

/** The robust tier's model as the engine sees it: windows in (row-major [batch, SR.window]), scores out. */
export interface RobustModel {
  readonly device: Device
  readonly window: number
  run(windows: Float32Array, batch: number): Promise<Float32Array>
  close(): Promise<void>
}

export interface LoadModelOptions {
  path: string
  device: Device
  /** ORT intra-op threads (1 = one core per session, the unit the benchmarks report). */
  threads: number
  logger: Logger
}

export type LoadModelResult = { ok: true; model: RobustModel; cudaFallback?: string } | { ok: false; reason: string }

/** Where onnxruntime-node keeps its native binaries for this platform (the CUDA provider must be there too). */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url)
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'))
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch)
}

/** Why the CUDA provider cannot be used here, or undefined when its binaries are installed. */
export function cudaUnavailableReason(binDir = ortBinaryDir()): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'win32') return `onnxruntime-node has no CUDA provider for ${process.platform}`
  const lib = process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'
  if (!existsSync(path.join(binDir, lib))) {
    return (
      `the CUDA execution provider is not installed (${lib} is not in ${binDir}; the npm package ships CPU only). ` +
      'Install it with ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node (see docs/detector.md)'
    )
  }
  return undefined
}

export async function loadRobustModel(opts: LoadModelOptions): Promise<LoadModelResult> {
  let bytes: Buffer
  try {
    bytes = await readFile(opts.path)
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'does not exist' : `cannot be read (${e.code ?? e.message})`
    return { ok: false, reason: `model file ${opts.path} ${why}; build it with \`aiops detector build-model\`` }
  }
  const ort = await import('onnxruntime-node')
  const base: InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  }
  let session: InferenceSession | undefined
  let device: Device = 'cpu'
  let cudaFallback: string | undefined
  if (opts.device === 'cuda') {
    cudaFallback = cudaUnavailableReason()
    if (!cudaFallback) {
      try {
        session = await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cuda', 'cpu'] })
        device = 'cuda'
      } catch (err) {
        cudaFallback = `creating a CUDA session failed: ${(err as Error).message}`
      }
    }
    if (cudaFallback) opts.logger.warn(`--device cuda asked for, running the robust tier on CPU: ${cudaFallback}`, { device: 'cpu' })
  }
  try {
    session ??= await ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] })
  } catch (err) {
    return { ok: false, reason: `model file ${opts.path} is not a valid ONNX model: ${(err as Error).message}` }
  }
  if (!session.inputNames.includes(SR_INPUT) || !session.outputNames.includes(SR_OUTPUT)) {
    await session.release()
    return {
      ok: false,
      reason: `model file ${opts.path} is not the spectral-residual model (inputs ${session.inputNames.join(',')}, outputs ${session.outputNames.join(',')})`,
    }
  }
  const model = new OrtRobustModel(session, ort.Tensor, device)
  try {
    // One tiny run now: a model that loads but cannot run (wrong shapes) must fail here, not on the first batch.
    await model.run(new Float32Array(SR.window), 1)
  } catch (err) {
    await model.close()
    return { ok: false, reason: `model file ${opts.path} fails to run: ${(err as Error).message}` }
  }
  return { ok: true, model, ...(cudaFallback ? { cudaFallback } : {}) }
}

class OrtRobustModel implements RobustModel {
  readonly window = SR.window
  private closed = false

  constructor(
    private readonly session: InferenceSession,
    private readonly TensorCtor: typeof Tensor,
    readonly device: Device,
  ) {}

  async run(windows: Float32Array, batch: number): Promise<Float32Array> {
    const n = batch * SR.window
    const input = new this.TensorCtor('float32', windows.length === n ? windows : windows.subarray(0, n), [batch, SR.window])
    const out = await this.session.run({ [SR_INPUT]: input })
    const scores = out[SR_OUTPUT]
    if (!scores || !(scores.data instanceof Float32Array) || scores.data.length !== batch) {
      throw new Error(`model returned ${scores ? scores.data.length : 'no'} scores for a batch of ${batch}`)
    }
    return scores.data
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.session.release()
  }
}
