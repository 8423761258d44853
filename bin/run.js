#!/usr/bin/env node
// Production entry: runs the compiled commands in dist/. Errors are rendered by the one top-level handler.
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
