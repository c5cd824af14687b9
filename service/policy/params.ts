// Checks of everything a caller hands a scheduler, shared by the TypeScript reference and the
// Wasm wrapper so that both reject the same input with the same InvalidArgumentError.
import { InvalidArgumentError } from '../core/errors.js'
import { CHOICE_PARAMS, DEFAULT_PARAMS, POLICY_NAMES, type PolicyName, type PolicyParams } from './types.js'

/** Largest node table: server sets are 64-bit masks. */
export const MAX_NODES = 64
/** Largest target table (2^23 entries, 512 MiB in Wasm). */
export const MAX_TARGET_CAPACITY = 1 << 23
export const MAX_BATCH = 1 << 20
export const MAX_WEIGHT = 65535
/** Longest reuse window (ms): longer, and the dispatcher would hardly be asked at all. */
export const MAX_REUSE_MS = 60_000
/** Open-addressing probe window: a target lives in one of these slots after its home slot. */
export const PROBE_WINDOW = 8

function integerIn(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
}

function positiveNumber(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a finite number above 0, got ${value}`)
  }
}

export function checkPolicy(policy: string): asserts policy is PolicyName {
  if (!(POLICY_NAMES as readonly string[]).includes(policy)) {
    throw new InvalidArgumentError(`unknown policy "${policy}" (one of ${POLICY_NAMES.join(', ')})`)
  }
}

/** The smallest power of two >= n (table sizes). */
export function powerOfTwoAtLeast(n: number): number {
  let p = 16
  while (p < n) p *= 2
  return p
}

/** Defaults filled in and every field checked. */
export function resolveParams(partial: Partial<PolicyParams> = {}): PolicyParams {
  for (const key of Object.keys(partial)) {
    if (!(key in DEFAULT_PARAMS)) throw new InvalidArgumentError(`unknown policy parameter "${key}"`)
  }
  const p: PolicyParams = { ...DEFAULT_PARAMS, ...partial }
  integerIn('maxNodes', p.maxNodes, 1, MAX_NODES)
  integerIn('targetCapacity', p.targetCapacity, 1, MAX_TARGET_CAPACITY)
  integerIn('batchCapacity', p.batchCapacity, 1, MAX_BATCH)
  integerIn('tLow', p.tLow, 0, 1e8)
  integerIn('tHigh', p.tHigh, 1, 1e8)
  if (p.tLow > p.tHigh) throw new InvalidArgumentError(`tLow (${p.tLow}) must not exceed tHigh (${p.tHigh})`)
  positiveNumber('shrinkSeconds', p.shrinkSeconds)
  integerIn('maxLoad', p.maxLoad, 1, 1e8)
  for (const name of ['hitCost', 'missCost', 'balCost', 'invalCost'] as const) {
    if (!Number.isFinite(p[name]) || p[name] < 0) throw new InvalidArgumentError(`${name} must be a finite number >= 0, got ${p[name]}`)
  }
  positiveNumber('hotThreshold', p.hotThreshold)
  positiveNumber('unitTimeUs', p.unitTimeUs)
  for (const [name, allowed] of Object.entries(CHOICE_PARAMS)) {
    const value = (p as unknown as Record<string, unknown>)[name]
    if (!(allowed as readonly unknown[]).includes(value))
      throw new InvalidArgumentError(`${name} must be ${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}, got ${String(value)}`)
  }
  integerIn('balanceFactorPercent', p.balanceFactorPercent, 101, 10000)
  integerIn('ringPointsPerNode', p.ringPointsPerNode, 1, 1000)
  if (typeof p.reuseMs !== 'number' || !Number.isFinite(p.reuseMs) || p.reuseMs < 0 || p.reuseMs > MAX_REUSE_MS)
    throw new InvalidArgumentError(`reuseMs must be a number from 0 to ${MAX_REUSE_MS}, got ${p.reuseMs}`)
  return p
}

export function checkNodeId(id: number, maxNodes: number): void {
  integerIn('node id', id, 0, maxNodes - 1)
}

export function checkWeight(weight: number): void {
  integerIn('weight', weight, 1, MAX_WEIGHT)
}

export function checkLoad(load: number): void {
  integerIn('load', load, 0, 0x7fffffff)
}

export function checkBatchSize(n: number, batchCapacity: number): void {
  integerIn('batch size', n, 0, batchCapacity)
}

export function checkTime(timeUs: number): void {
  if (typeof timeUs !== 'number' || !Number.isFinite(timeUs)) throw new InvalidArgumentError(`time must be a finite number of microseconds, got ${timeUs}`)
}

/** The errors a batch can carry, by the index of the first bad record. */
export function badReceivingNode(index: number, id: number, maxNodes: number): InvalidArgumentError {
  return new InvalidArgumentError(`request ${index}: receiving node ${id} is outside 0..${maxNodes - 1}`)
}
export function badTime(index: number, timeUs: number): InvalidArgumentError {
  return new InvalidArgumentError(`request ${index}: time ${timeUs} is not a finite number of microseconds`)
}
export function badDoneNode(index: number, id: number, maxNodes: number): InvalidArgumentError {
  return new InvalidArgumentError(`done ${index}: node ${id} is outside 0..${maxNodes - 1}`)
}
export function noNodesUp(): InvalidArgumentError {
  return new InvalidArgumentError('no node is up: add a node before deciding')
}

export function checkHash(hash: number): void {
  integerIn('hash', hash, 0, 0xffffffff)
}
