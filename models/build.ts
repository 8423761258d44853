/**
 * Builds models/*.onnx from the project's own code (no Python, nothing downloaded):
 *   npx tsx models/build.ts [OUT_DIR]
 * The same builder runs as `aiops detector build-model`, and the tests build into a temp dir and compare
 * with the committed file, so a change to the graph that is not rebuilt here fails CI.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildModels } from '../src/lib/detection/onnx/build-models.js'

const out = process.argv[2] ?? path.dirname(fileURLToPath(import.meta.url))
for (const m of await buildModels(out)) console.log(`wrote ${m.path} (${m.bytes} bytes)`)
