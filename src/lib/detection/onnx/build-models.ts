/**
 * Writes the project's ONNX models into a directory (models/ in the repository; `aiops detector build-model`
 * for an installation). The output is byte-for-byte reproducible: same code, same file.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { buildSpectralResidualModel, SR_MODEL_NAME } from './spectral-residual.js'

export interface BuiltModel {
  name: string
  path: string
  bytes: number
}

export async function buildModels(outDir: string): Promise<BuiltModel[]> {
  await mkdir(outDir, { recursive: true })
  const bytes = buildSpectralResidualModel()
  const file = path.join(outDir, `${SR_MODEL_NAME}.onnx`)
  // Write then rename: a reader (a starting agent, a parallel test) never sees a half-written model.
  const tmp = `${file}.${process.pid}.tmp`
  await writeFile(tmp, bytes)
  await rename(tmp, file)
  return [{ name: SR_MODEL_NAME, path: file, bytes: bytes.length }]
}
