/**
 * `aiops loadtest` as a library call: validated spec in, result out, with live progress, Ctrl-C handling and the
 * optional HTML report. The command only parses flags and renders.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { checkReachable } from './preflight.js'
import { plainProgress } from './progress/plain.js'
import { loadtestHtml } from './report/loadtest-html.js'
import type { LoadtestResult, LoadtestSpec, Progress } from './result.js'
import { runLoadtest } from './run.js'

export { buildSpec, type ThresholdSource } from './options.js'
export type { LoadtestResult, LoadtestSpec, Progress } from './result.js'
export { summaryLines } from './report/summary.js'
export { runLoadtest } from './run.js'

export interface ExecuteOptions {
  /** Where progress goes: a live ink view (TTY), periodic lines (CI), or nowhere. */
  progress: { mode: 'ink' | 'lines' | 'none'; stream: NodeJS.WriteStream; intervalS: number }
  reportPath?: string
  cwd?: string
}

export async function executeLoadtest(spec: LoadtestSpec, o: ExecuteOptions): Promise<LoadtestResult> {
  await checkReachable(spec.address, spec.url)
  let onProgress: ((p: Progress) => void) | undefined
  let stopView = (): void => {}
  if (o.progress.mode === 'ink') {
    const { inkProgress } = await import('./progress/ink.js')
    const view = await inkProgress(o.progress.stream)
    onProgress = (p) => view.update(p)
    stopView = () => view.stop()
  } else if (o.progress.mode === 'lines') {
    onProgress = plainProgress((line) => o.progress.stream.write(`${line}\n`), o.progress.intervalS)
  }
  // First Ctrl-C: stop sending, drain, report (verdict "aborted"). A second one ends the process the usual way.
  const ac = new AbortController()
  const onSigint = (): void => {
    ac.abort()
    process.removeListener('SIGINT', onSigint)
  }
  process.on('SIGINT', onSigint)
  let result: LoadtestResult
  try {
    // Rendering the live view takes the event loop for milliseconds at a time; with it on, even a single worker runs
    // in its own process so redraws never delay a scheduled send.
    result = await runLoadtest(spec, { onProgress, signal: ac.signal, workerMode: o.progress.mode === 'ink' ? 'process' : 'auto' })
  } finally {
    process.removeListener('SIGINT', onSigint)
    stopView()
  }
  if (o.reportPath) {
    const file = path.resolve(o.cwd ?? process.cwd(), o.reportPath)
    await mkdir(path.dirname(file), { recursive: true })
    result.reportPath = file
    await writeFile(file, loadtestHtml(result))
  }
  return result
}
