// What every reference policy shares: the batch columns, input checks, load accounting and
// membership. A policy supplies pick() (the rule) and, when it keeps targets, forgetNode().
import { InvalidArgumentError } from '../../core/errors.js'
import {
  badDoneNode,
  badReceivingNode,
  badTime,
  checkBatchSize,
  checkLoad,
  checkNodeId,
  checkTime,
  checkWeight,
  noNodesUp,
  checkHash,
} from '../params.js'
import type {
  DoneColumns,
  HotTarget,
  PolicyName,
  PolicyParams,
  RequestColumns,
  Scheduler,
  SchedulerStats,
} from '../types.js'
import { NodeTable } from './nodes.js'

export abstract class ReferenceScheduler implements Scheduler {
  readonly impl = 'ts' as const
  readonly requests: RequestColumns
  readonly dones: DoneColumns
  protected readonly nodes: NodeTable
  /** Latest request time seen: "now" for hotTargets(). */
  protected nowUs = 0
  private closed = false

  constructor(
    readonly policy: PolicyName,
    readonly params: Readonly<PolicyParams>,
  ) {
    const n = params.batchCapacity
    this.requests = {
      receiving: new Int32Array(n),
      hash: new Uint32Array(n),
      timeUs: new Float64Array(n),
      reportedLoad: new Int32Array(n).fill(-1),
      chosen: new Int32Array(n),
    }
    this.dones = { node: new Int32Array(n), hash: new Uint32Array(n) }
    this.nodes = new NodeTable(params.maxNodes)
  }

  /** Refuse any use after close(), as the Wasm wrapper does. */
  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError('this scheduler is closed')
  }

  /** The policy's rule: the node that serves this request (its load is added by decide()). */
  protected abstract pick(receiving: number, hash: number, timeUs: number): number

  /** The policy's target table, if it keeps one (for stats()). */
  protected targetTable(): { size: number; capacity: number; evictions: number } | undefined {
    return undefined
  }

  /** A node left: drop it from every target that names it. */
  protected forgetNode(_id: number): void {}

  /** Membership or a weight changed. */
  protected membershipChanged(): void {}

  decide(n: number): void {
    this.checkOpen()
    checkBatchSize(n, this.params.batchCapacity)
    if (n === 0) return
    if (this.nodes.upIds.length === 0) throw noNodesUp()
    const { receiving, hash, timeUs, reportedLoad, chosen } = this.requests
    const maxNodes = this.params.maxNodes
    for (let i = 0; i < n; i++) {
      if (receiving[i] < 0 || receiving[i] >= maxNodes) throw badReceivingNode(i, receiving[i], maxNodes)
      if (!Number.isFinite(timeUs[i])) throw badTime(i, timeUs[i])
    }
    for (let i = 0; i < n; i++) {
      if (reportedLoad[i] >= 0) this.nodes.load[receiving[i]] = reportedLoad[i]
      const node = this.pick(receiving[i], hash[i], timeUs[i])
      this.nodes.load[node]++
      chosen[i] = node
      if (timeUs[i] > this.nowUs) this.nowUs = timeUs[i]
    }
  }

  done(n: number): void {
    this.checkOpen()
    checkBatchSize(n, this.params.batchCapacity)
    const { node } = this.dones
    const maxNodes = this.params.maxNodes
    for (let i = 0; i < n; i++) if (node[i] < 0 || node[i] >= maxNodes) throw badDoneNode(i, node[i], maxNodes)
    for (let i = 0; i < n; i++) if (this.nodes.load[node[i]] > 0) this.nodes.load[node[i]]--
  }

  addNode(id: number, weight = 1): void {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    checkWeight(weight)
    this.nodes.add(id, weight)
    this.membershipChanged()
  }

  removeNode(id: number): void {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    if (!this.nodes.up[id]) return
    this.nodes.remove(id)
    this.forgetNode(id)
    this.membershipChanged()
  }

  setWeight(id: number, weight: number): void {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    checkWeight(weight)
    this.nodes.weight[id] = weight
    this.membershipChanged()
  }

  isUp(id: number): boolean {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    return this.nodes.up[id]
  }

  load(id: number): number {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    return this.nodes.load[id]
  }

  setLoad(id: number, load: number): void {
    this.checkOpen()
    checkNodeId(id, this.params.maxNodes)
    checkLoad(load)
    this.nodes.load[id] = load
  }

  observeLocal(node: number, hash: number, count: number, timeUs: number): void {
    this.checkOpen()
    checkNodeId(node, this.params.maxNodes)
    checkHash(hash)
    checkLoad(count)
    checkTime(timeUs)
    this.observe(hash, count, timeUs)
  }

  /** DS folds locally served requests into the target's rate; other policies ignore them. */
  protected observe(_hash: number, _count: number, _timeUs: number): void {}

  stats(): SchedulerStats {
    this.checkOpen()
    const table = this.targetTable()
    return {
      targets: table?.size ?? 0,
      targetCapacity: table?.capacity ?? 0,
      evictions: table?.evictions ?? 0,
      nodesUp: this.nodes.upIds.length,
    }
  }

  hotTargets(_limit: number): HotTarget[] {
    return []
  }

  close(): void {
    this.closed = true
  }
}
