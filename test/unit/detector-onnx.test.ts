/**
 * The robust tier's model, written by the project's own protobuf/ONNX writer: it loads in onnxruntime-node,
 * its batch dimension is dynamic, it computes what the float64 reference computes, the build is reproducible
 * and the committed file is what the code builds. And the device choice: CUDA asked for without its binaries
 * → CPU, with one log line saying why.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import * as ort from 'onnxruntime-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildSpectralResidualModel, referenceScore, SR, SR_INPUT, SR_OUTPUT } from '../../src/lib/detection/onnx/spectral-residual.js'
import { decodeVarint, encodeVarint, ProtoWriter } from '../../src/lib/detection/onnx/protobuf.js'
import { cudaUnavailableReason, loadRobustModel } from '../../src/lib/detection/onnx/session.js'
import { createLogger, silentLogger } from '../../src/lib/telemetry/index.js'
import { gaussian, rng } from '../../src/lib/detection/synthetic.js'
import { ensureModel } from '../fixtures/detector/ensure-model.js'

let modelPath: string
beforeAll(async () => {
  modelPath = await ensureModel()
})

function windows(batch: number, seed: number): Float32Array {
  const rand = rng(seed)
  const out = new Float32Array(batch * SR.window)
  for (let b = 0; b < batch; b++) {
    const level = 100 * rand()
    for (let i = 0; i < SR.window; i++) out[b * SR.window + i] = level + 5 * Math.sin(i / (3 + b)) + gaussian(rand)
    if (b % 3 === 1) out[b * SR.window + SR.window - 1]! += 40 // a spike on the last point of every third window
  }
  return out
}

describe('protobuf writer', () => {
  it('encodes varints as protobuf does (and reads them back)', () => {
    expect([...encodeVarint(1)]).toEqual([1])
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02])
    expect([...encodeVarint(2n ** 63n)]).toHaveLength(10)
    for (const v of [0n, 127n, 128n, 16384n, 2n ** 53n + 1n]) expect(decodeVarint(encodeVarint(v), 0).value).toBe(v)
  })

  it('writes negative int64 as 10-byte two’s complement and fields as tag + payload', () => {
    const w = new ProtoWriter().int64(1, -1).string(2, 'ab').finish()
    expect(w.length).toBe(1 + 10 + 1 + 1 + 2)
    expect(w[0]).toBe(0x08)
    expect(decodeVarint(w, 1).value).toBe(2n ** 64n - 1n)
    expect([...w.slice(11)]).toEqual([0x12, 2, 0x61, 0x62])
  })
})

describe('spectral-residual model', () => {
  it('builds the same bytes every time, and the committed models/ file is exactly what the code builds', () => {
    const a = buildSpectralResidualModel()
    expect(Buffer.compare(Buffer.from(a), Buffer.from(buildSpectralResidualModel()))).toBe(0)
    // Changing the graph without rerunning `npx tsx models/build.ts` fails here, not in production.
    expect(Buffer.compare(readFileSync(modelPath), Buffer.from(a))).toBe(0)
  })

  it('loads in onnxruntime-node with a dynamic batch dimension and matches the float64 reference', async () => {
    const session = await ort.InferenceSession.create(modelPath)
    expect(session.inputNames).toEqual([SR_INPUT])
    expect(session.outputNames).toEqual([SR_OUTPUT])
    for (const batch of [1, 7, 64]) {
      const data = windows(batch, batch)
      const out = await session.run({ [SR_INPUT]: new ort.Tensor('float32', data, [batch, SR.window]) })
      const scores = out[SR_OUTPUT]!.data as Float32Array
      expect(scores).toHaveLength(batch)
      for (let b = 0; b < batch; b++) {
        const ref = referenceScore(data.subarray(b * SR.window, (b + 1) * SR.window))
        expect(Math.abs(scores[b]! - ref)).toBeLessThan(1e-3 * Math.max(1, ref))
      }
    }
    await session.release()
  })

  it('scores a spike on the last point far above the same window without it', () => {
    const clean = windows(1, 5)
    const spiked = Float32Array.from(clean)
    spiked[SR.window - 1]! += 40
    expect(referenceScore(spiked)).toBeGreaterThan(5 * referenceScore(clean))
  })
})

describe('device selection', () => {
  it('--device cuda without the CUDA provider installed: runs on CPU and says why in one log line', async () => {
    const reason = cudaUnavailableReason()
    // The npm package ships CPU only (.npmrc skips the CUDA download): this is the CI and dev-machine case.
    expect(reason).toMatch(/CUDA execution provider is not installed/)
    const stream = new PassThrough()
    const lines: string[] = []
    stream.on('data', (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean)))
    const logger = createLogger({ level: 'debug', stream })
    const loaded = await loadRobustModel({ path: modelPath, device: 'cuda', threads: 1, logger })
    expect(loaded.ok).toBe(true)
    if (!loaded.ok) return
    expect(loaded.model.device).toBe('cpu')
    expect(loaded.cudaFallback).toBe(reason)
    const mentions = lines.map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => /cuda/i.test(l.msg))
    expect(mentions).toHaveLength(1)
    expect(mentions[0]).toMatchObject({ level: 'warn' })
    expect(mentions[0]!.msg).toMatch(/running the robust tier on CPU: the CUDA execution provider is not installed/)
    expect(mentions[0]!.msg).toMatch(/ONNXRUNTIME_NODE_INSTALL=cuda12/)
    await loaded.model.close()
  })

  it('a missing or corrupt model file is a reason, not a crash', async () => {
    const missing = await loadRobustModel({ path: '/nonexistent/model.onnx', device: 'cpu', threads: 1, logger: silentLogger })
    expect(missing).toEqual({ ok: false, reason: expect.stringMatching(/does not exist; build it with `aiops detector build-model`/) })
    const corrupt = path.join(mkdtempSync(path.join(tmpdir(), 'aiops-model-')), 'bad.onnx')
    writeFileSync(corrupt, 'not a model')
    const bad = await loadRobustModel({ path: corrupt, device: 'cpu', threads: 1, logger: silentLogger })
    expect(bad).toEqual({ ok: false, reason: expect.stringMatching(/is not a valid ONNX model/) })
  })
})
