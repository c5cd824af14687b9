// The reference scheduler for a policy name.
import type { PolicyName, PolicyParams, Scheduler } from '../types.js'
import { ChblScheduler } from './chbl.js'
import { DsScheduler } from './ds.js'
import { LardCostScheduler } from './lard-cost.js'
import { LardRScheduler } from './lard-r.js'
import { LardScheduler } from './lard.js'
import { LcScheduler } from './lc.js'
import { WrrScheduler } from './wrr.js'

export function createReferenceScheduler(policy: PolicyName, params: Readonly<PolicyParams>): Scheduler {
  switch (policy) {
    case 'wrr':
      return new WrrScheduler(policy, params)
    case 'lc':
      return new LcScheduler(policy, params)
    case 'lard':
      return new LardScheduler(policy, params)
    case 'lard-r':
      return new LardRScheduler(policy, params)
    case 'lard-cost':
      return new LardCostScheduler(policy, params)
    case 'ds':
      return new DsScheduler(policy, params)
    case 'chbl':
      return new ChblScheduler(policy, params)
  }
}

export { ReferenceLocalTable } from './local-table.js'
