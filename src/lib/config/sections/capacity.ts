/**
 * Configuration of `aiops capacity`: where the planning input lives and where the outputs go. The planning numbers
 * themselves (load, growth, instances, costs) are in the input file (docs/capacity.md), reviewed monthly.
 */
import { str, type Section } from '../fields.js'

export const capacitySection = {
  input: str('', 'Capacity planning input (YAML or JSON): current load, growth, instances, capacities, costs, measurements.'),
  report: str('', 'Write the HTML report (a runway chart per component) here.'),
  targets: str('', 'Write the scaling targets (HPA, KEDA, partitions, shards) here; .json for JSON, otherwise YAML.'),
} satisfies Section
