// Thin wrappers around the Wasm core (build/l7.wasm), after undici's llhttp wrapper: the module
// is compiled once (synchronously) and cached; each scheduler, node-local table or hasher
// owns one instance. Batch columns are typed-array views on the instance's memory, so the
// caller writes requests where Wasm reads them. Memory only grows during init, so the views
// never go stale. Every argument is checked here, with the same errors as the reference.
import { readFileSync } from 'node:fs'
import { InvalidArgumentError, L7Error } from '../core/errors.js'
import {
  badDoneNode,
  badReceivingNode,
  badTime,
  checkBatchSize,
  checkHash,
  checkLoad,
  checkNodeId,
  checkTime,
  checkWeight,
  noNodesUp,
  powerOfTwoAtLeast,
} from './params.js'
import type {
  DoneColumns,
  HotTarget,
  LocalTable,
  PolicyName,
  PolicyParams,
  RequestColumns,
  Scheduler,
  SchedulerStats,
} from './types.js'

// The WebAssembly global, typed here: the project's TypeScript libs (ES2023 + node) omit it.
interface WasmModule {
  readonly __wasmModule: never
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: object) => { readonly exports: unknown }
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface CoreExports {
  memory: { readonly buffer: ArrayBuffer }
  init(...args: number[]): number
  initHasher(capacity: number): number
  receivingColumn(): number
  hashColumn(): number
  timeColumn(): number
  reportedLoadColumn(): number
  chosenColumn(): number
  doneNodeColumn(): number
  doneHashColumn(): number
  inputBuffer(): number
  tableStart(): number
  tableSize(): number
  entryBytes(): number
  now(): number
  decide(n: number): number
  done(n: number): number
  addNode(id: number, weight: number): void
  removeNode(id: number): void
  setWeight(id: number, weight: number): void
  isUp(id: number): number
  nodesUp(): number
  getLoad(id: number): number
  setLoad(id: number, load: number): void
  observeLocal(hash: number, count: number, timeUs: number): void
  targetsStored(): number
  evictionCount(): number
  slotRate(slot: number, timeUs: number): number
  localAssign(hash: number, timeUs: number, handedOff: number): void
  setChoices(costTiesById: number, ownerUpdate: number, hotAllocReceiving: number, localRateServed: number): void
  localCheck(hash: number, timeUs: number, ownLoad: number): number
  localSize(): number
  hashPath(length: number, keepQuery: number): number
  hashRequestLine(length: number, keepQuery: number): number
}

const POLICY_CODE: Record<PolicyName, number> = { wrr: 0, lc: 1, lard: 2, 'lard-r': 3, 'lard-cost': 4, ds: 5, chbl: 6 }
const LOCAL_TABLE_CODE = 7
const ESTIMATOR_CODE = { ewma: 0, window: 1, literal: 2 } as const
const OWNER_CODE = { always: 0, new: 1, never: 2 } as const

const WASM_URL = new URL('../../../build/l7.wasm', import.meta.url)
let cachedModule: WasmModule | undefined

function wasmModule(): WasmModule {
  if (cachedModule === undefined) {
    let bytes: Buffer
    try {
      bytes = readFileSync(WASM_URL)
    } catch (error) {
      throw new L7Error('L7_WASM_MISSING', `cannot read ${WASM_URL.pathname}: run "npm run build:wasm"`, { cause: error })
    }
    cachedModule = new wasmApi.Module(bytes)
  }
  return cachedModule
}

function instantiate(): CoreExports {
  const imports = {
    env: {
      abort(): never {
        throw new L7Error('L7_WASM_ABORT', 'the Wasm policy core aborted')
      },
    },
  }
  return new wasmApi.Instance(wasmModule(), imports).exports as CoreExports
}

function initCore(core: CoreExports, code: number, params: Readonly<PolicyParams>): void {
  const status = core.init(
    code,
    params.maxNodes,
    powerOfTwoAtLeast(params.targetCapacity),
    params.batchCapacity,
    params.tLow,
    params.tHigh,
    params.shrinkSeconds * 1e6,
    params.maxLoad,
    params.hitCost,
    params.missCost,
    params.balCost,
    params.invalCost,
    params.hotThreshold,
    params.unitTimeUs,
    ESTIMATOR_CODE[params.rateEstimator],
    params.balanceFactorPercent,
    params.ringPointsPerNode,
  )
  if (status !== 0) throw new InvalidArgumentError(`the Wasm core could not reserve its tables (status ${status}): lower targetCapacity or batchCapacity`)
  core.setChoices(
    params.costTies === 'id' ? 1 : 0,
    OWNER_CODE[params.ownerUpdate],
    params.hotAlloc === 'receiving' ? 1 : 0,
    params.localRate === 'served' ? 1 : 0,
  )
}

const closedError = (): InvalidArgumentError => new InvalidArgumentError('this scheduler is closed')

export class WasmScheduler implements Scheduler {
  readonly impl = 'wasm' as const
  readonly requests: RequestColumns
  readonly dones: DoneColumns
  private core: CoreExports | undefined

  constructor(
    readonly policy: PolicyName,
    readonly params: Readonly<PolicyParams>,
  ) {
    const core = instantiate()
    initCore(core, POLICY_CODE[policy], params)
    const buffer = core.memory.buffer
    const n = params.batchCapacity
    this.requests = {
      receiving: new Int32Array(buffer, core.receivingColumn(), n),
      hash: new Uint32Array(buffer, core.hashColumn(), n),
      timeUs: new Float64Array(buffer, core.timeColumn(), n),
      reportedLoad: new Int32Array(buffer, core.reportedLoadColumn(), n),
      chosen: new Int32Array(buffer, core.chosenColumn(), n),
    }
    this.dones = { node: new Int32Array(buffer, core.doneNodeColumn(), n), hash: new Uint32Array(buffer, core.doneHashColumn(), n) }
    this.core = core
  }

  private live(): CoreExports {
    if (this.core === undefined) throw closedError()
    return this.core
  }

  decide(n: number): void {
    const core = this.live()
    if ((n | 0) !== n) checkBatchSize(n, this.params.batchCapacity)
    const result = core.decide(n)
    if (result === -1) return
    checkBatchSize(n, this.params.batchCapacity)
    if (result === -2) throw noNodesUp()
    const i = result >> 1
    if ((result & 1) === 0) throw badReceivingNode(i, this.requests.receiving[i], this.params.maxNodes)
    throw badTime(i, this.requests.timeUs[i])
  }

  done(n: number): void {
    const core = this.live()
    if ((n | 0) !== n) checkBatchSize(n, this.params.batchCapacity)
    const result = core.done(n)
    if (result === -1) return
    checkBatchSize(n, this.params.batchCapacity)
    throw badDoneNode(result, this.dones.node[result], this.params.maxNodes)
  }

  addNode(id: number, weight = 1): void {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    checkWeight(weight)
    core.addNode(id, weight)
  }

  removeNode(id: number): void {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    core.removeNode(id)
  }

  setWeight(id: number, weight: number): void {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    checkWeight(weight)
    core.setWeight(id, weight)
  }

  isUp(id: number): boolean {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    return core.isUp(id) !== 0
  }

  load(id: number): number {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    return core.getLoad(id)
  }

  setLoad(id: number, load: number): void {
    const core = this.live()
    checkNodeId(id, this.params.maxNodes)
    checkLoad(load)
    core.setLoad(id, load)
  }

  observeLocal(node: number, hash: number, count: number, timeUs: number): void {
    const core = this.live()
    checkNodeId(node, this.params.maxNodes)
    checkHash(hash)
    checkLoad(count)
    checkTime(timeUs)
    core.observeLocal(hash, count, timeUs)
  }

  stats(): SchedulerStats {
    const core = this.live()
    return {
      targets: core.targetsStored(),
      targetCapacity: core.tableSize(),
      evictions: core.evictionCount(),
      nodesUp: core.nodesUp(),
    }
  }

  hotTargets(limit: number): HotTarget[] {
    const core = this.live()
    if (this.policy !== 'ds') return []
    const slots = core.tableSize()
    const words = core.entryBytes() / 4
    const table = new Uint32Array(core.memory.buffer, core.tableStart(), slots * words)
    const now = core.now()
    const hot: HotTarget[] = []
    for (let slot = 0; slot < slots; slot++) {
      const base = slot * words
      if (table[base + 1] === 0) continue // E_FLAGS: empty slot
      const ratePerSec = core.slotRate(slot, now)
      if (ratePerSec < this.params.hotThreshold) continue
      const owner = table[base + 2] | 0
      const setLow = table[base + 4]
      const setHigh = table[base + 5]
      const nodes: number[] = []
      for (let id = 0; id < 64; id++) {
        const bit = id < 32 ? (setLow >>> id) & 1 : (setHigh >>> (id - 32)) & 1
        if (bit) nodes.push(id)
      }
      if (nodes.length === 0 && owner >= 0) nodes.push(owner)
      hot.push({ hash: table[base], ratePerSec, nodes })
    }
    return hot.sort((a, b) => b.ratePerSec - a.ratePerSec || a.hash - b.hash).slice(0, Math.max(0, limit))
  }

  close(): void {
    this.core = undefined
  }
}

/** The DS node half in Wasm (rule: service/policy/reference/local-table.ts). */
export class WasmLocalTable implements LocalTable {
  private core: CoreExports | undefined

  constructor(params: Readonly<PolicyParams>) {
    const core = instantiate()
    initCore(core, LOCAL_TABLE_CODE, params)
    this.core = core
  }

  private live(): CoreExports {
    if (this.core === undefined) throw new InvalidArgumentError('this local table is closed')
    return this.core
  }

  assign(hash: number, timeUs: number, handedOff = false): void {
    const core = this.live()
    checkHash(hash)
    checkTime(timeUs)
    core.localAssign(hash, timeUs, handedOff ? 1 : 0)
  }

  check(hash: number, timeUs: number, ownLoad: number): boolean {
    const core = this.live()
    checkHash(hash)
    checkTime(timeUs)
    checkLoad(ownLoad)
    return core.localCheck(hash, timeUs, ownLoad) !== 0
  }

  size(): number {
    return this.live().localSize()
  }

  close(): void {
    this.core = undefined
  }
}

/**
 * Hashes request targets straight from request bytes, in Wasm: no strings are made. Bytes are
 * copied once into the instance's input buffer (or written there directly through `input`).
 */
export class RequestHasher {
  /** The instance's input buffer: write a line here and pass (hasher.input, 0, length) to skip the copy. */
  readonly input: Uint8Array
  private readonly core: CoreExports

  constructor(readonly capacity = 8192) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 20) {
      throw new InvalidArgumentError(`hasher capacity must be an integer from 1 to ${1 << 20}, got ${capacity}`)
    }
    this.core = instantiate()
    if (this.core.initHasher(capacity) !== 0) throw new InvalidArgumentError('the Wasm core could not reserve the hasher buffer')
    this.input = new Uint8Array(this.core.memory.buffer, this.core.inputBuffer(), capacity)
  }

  private load(buf: Uint8Array, start: number, end: number): number {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > buf.length) {
      throw new InvalidArgumentError(`bad byte range ${start}..${end} of a ${buf.length}-byte buffer`)
    }
    const length = end - start
    if (length > this.capacity) throw new InvalidArgumentError(`${length} bytes exceed the hasher's ${this.capacity}-byte buffer`)
    if (buf !== this.input || start !== 0) this.input.set(buf.subarray(start, end))
    return length
  }

  /** Hash of the key of an HTTP request line (`GET /a?b HTTP/1.1`, CRLF optional); -1 if malformed. */
  hashRequestLine(buf: Uint8Array, start: number, end: number, keepQuery = false): number {
    const length = this.load(buf, start, end)
    return this.core.hashRequestLine(length, keepQuery ? 1 : 0)
  }

  /** Hash of the key of a request target (path or absolute URL). */
  hashPath(buf: Uint8Array, start: number, end: number, keepQuery = false): number {
    const length = this.load(buf, start, end)
    return this.core.hashPath(length, keepQuery ? 1 : 0)
  }
}
