export { DetectorAgent, type DetectorAgentOptions } from './agent.js'
