/** The gateway agent (`aiops agent gateway`): OTLP/HTTP in, bus out. */
export { GatewayAgent, type GatewayAgentOptions } from './agent.js'
export { gatewaySettings, type GatewaySettings } from './settings.js'
export { counterValue } from './metrics.js'
