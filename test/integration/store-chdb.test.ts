import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChdbStore } from '../../src/lib/store/chdb.js'
import { randomName } from '../support/names.js'
import { storeContract } from '../support/store-contract.js'

// chDB binds one data directory per process; vitest runs each file in its own fork, so this file owns it.
storeContract('chdb (embedded ClickHouse)', async () => {
  const path = await mkdtemp(join(tmpdir(), 'aiops-chdb-'))
  const database = randomName('aiops_test')
  const store = new ChdbStore({ path, database })
  return {
    store,
    database,
    async cleanup() {
      await store.close()
      await rm(path, { recursive: true, force: true })
    },
  }
})
