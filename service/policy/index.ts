// The policy core's front door: schedulers (Wasm core or TypeScript reference, same
// decisions), the DS node-local table, and URL hashing.
import { InvalidArgumentError } from '../core/errors.js'
import { checkPolicy, resolveParams } from './params.js'
import { createReferenceScheduler, ReferenceLocalTable } from './reference/index.js'
import type { LocalTable, PolicyName, PolicyParams, Scheduler } from './types.js'
import { WasmLocalTable, WasmScheduler } from './wasm.js'

export * from './types.js'
export { hashKey, hashPath as hashPathTs, hashRequestLine as hashRequestLineTs } from './hash.js'
export { RequestHasher } from './wasm.js'
export { resolveParams } from './params.js'
export { RecentAssignments, RECENT_ASSIGNMENT_SLOTS } from './recent-assignments.js'

export type Impl = 'wasm' | 'ts'

function checkImpl(impl: string): void {
  if (impl !== 'wasm' && impl !== 'ts') throw new InvalidArgumentError(`impl must be wasm or ts, got ${impl}`)
}

/** A scheduler for `policy`: the Wasm core by default, or the TypeScript reference. */
export function createScheduler(policy: PolicyName, params: Partial<PolicyParams> = {}, impl: Impl = 'wasm'): Scheduler {
  checkPolicy(policy)
  checkImpl(impl)
  const resolved = Object.freeze(resolveParams(params))
  return impl === 'ts' ? createReferenceScheduler(policy, resolved) : new WasmScheduler(policy, resolved)
}

/** The DS node half: targets assigned to this node and their rates. */
export function createLocalTable(params: Partial<PolicyParams> = {}, impl: Impl = 'wasm'): LocalTable {
  checkImpl(impl)
  const resolved = Object.freeze(resolveParams(params))
  return impl === 'ts' ? new ReferenceLocalTable(resolved) : new WasmLocalTable(resolved)
}
