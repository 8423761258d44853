import { Flags } from '@oclif/core'
import { BaseCommand } from '../../lib/cli/base-command.js'
import { buildModels, type BuiltModel } from '../../lib/detection/onnx/build-models.js'
import { defaultModelPath } from '../../lib/detection/settings.js'
import path from 'node:path'

export interface BuildModelResult {
  models: BuiltModel[]
}

export default class DetectorBuildModel extends BaseCommand<typeof DetectorBuildModel> {
  static summary = "Write the robust tier's ONNX model (spectral-residual saliency), built from aiops's own code."
  static description =
    'The model is a fixed signal-processing graph (DFT as MatMul with constant cos/sin matrices, log-amplitude ' +
    'spectral residual, inverse DFT, local saliency ratio) with a dynamic batch dimension: nothing is trained or ' +
    'downloaded, and the same code writes the same bytes. By default it is written where the detector looks for it ' +
    '(detector.robust.modelPath empty); point detector.robust.modelPath at another folder’s file to use a copy.'
  static examples = ['<%= config.bin %> detector build-model', '<%= config.bin %> detector build-model --out /var/lib/aiops/models --json']

  static flags = {
    out: Flags.string({ summary: 'Folder to write into (default: the models folder of this installation).' }),
  }

  async run(): Promise<BuildModelResult> {
    const out = this.flags.out ?? path.dirname(defaultModelPath())
    const models = await buildModels(out)
    if (!this.jsonEnabled()) for (const m of models) this.log(`wrote ${m.path} (${m.bytes} bytes)`)
    return { models }
  }
}
