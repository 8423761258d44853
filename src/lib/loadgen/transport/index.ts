import { FetchTransport } from './fetch.js'
import { NodeHttpTransport } from './node-http.js'
import { RawTransport } from './raw.js'
import type { TargetAddress, Transport, TransportName } from './types.js'

export * from './types.js'

export function createTransport(name: TransportName, target: TargetAddress, slots: number): Transport {
  switch (name) {
    case 'raw':
      return new RawTransport(target)
    case 'http':
      return new NodeHttpTransport(target, slots)
    case 'fetch':
      return new FetchTransport(target)
  }
}
