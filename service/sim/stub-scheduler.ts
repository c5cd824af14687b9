// A minimal Scheduler for the model's own specs, so they test the model and not a policy:
// it sends every request to a fixed rule's choice and keeps loads as the interface says.

import { DEFAULT_PARAMS, type PolicyName, type Scheduler } from '../policy/types.js'

export type StubRule = (receiving: number, hash: number, loads: Int32Array, nodes: number) => number

export function createStubScheduler(rule: StubRule, policy: PolicyName = 'wrr'): Scheduler {
  const params = { ...DEFAULT_PARAMS }
  const cap = params.batchCapacity
  const loads = new Int32Array(params.maxNodes)
  const up = new Uint8Array(params.maxNodes)
  let nodes = 0
  const requests = {
    receiving: new Int32Array(cap),
    hash: new Uint32Array(cap),
    timeUs: new Float64Array(cap),
    reportedLoad: new Int32Array(cap),
    chosen: new Int32Array(cap),
  }
  const dones = { node: new Int32Array(cap), hash: new Uint32Array(cap) }
  return {
    policy,
    impl: 'ts',
    params,
    requests,
    dones,
    decide(n) {
      for (let i = 0; i < n; i++) {
        const c = rule(requests.receiving[i], requests.hash[i], loads, nodes)
        requests.chosen[i] = c
        loads[c]++
      }
    },
    done(n) {
      for (let i = 0; i < n; i++) if (loads[dones.node[i]] > 0) loads[dones.node[i]]--
    },
    addNode(id) {
      up[id] = 1
      nodes = Math.max(nodes, id + 1)
    },
    removeNode(id) {
      up[id] = 0
      loads[id] = 0
    },
    setWeight() {},
    isUp: (id) => up[id] === 1,
    load: (id) => loads[id],
    setLoad(id, load) {
      loads[id] = load
    },
    observeLocal() {},
    stats: () => ({ targets: 0, targetCapacity: 0, evictions: 0, nodesUp: nodes }),
    hotTargets: () => [],
    close() {},
  }
}
