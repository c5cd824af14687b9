// The DS node half (seed Fig. 12, "real server module"), reference version. The node keeps the
// targets it has seen with their rate estimate and whether the dispatcher assigned them here.
//   assign(): the dispatcher chose this node for the target: mark it assigned; a target new to
//     the table also records this request's time as its first arrival.
//   check(): a client request arrived here directly. Record its arrival in the rate; serve it
//     locally iff the target is assigned here, its rate is at or above hotThreshold and this
//     node's load is under maxLoad. Otherwise clear the assignment (the seed's clear_request)
//     and ask the dispatcher.
// localRate 'served' (the seed's text, read literally): a request handed off to this node also
// counts in its rate, not only those that arrive here.
// [inferred] Clearing drops the assignment, not the rate history: the seed updates the
// request-time information "whenever the server processes a request", and a rate that restarted
// at every clear could never reach the threshold with the ewma or window estimators.
import { InvalidArgumentError } from '../../core/errors.js'
import { checkHash, checkLoad, checkTime } from '../params.js'
import type { LocalTable, PolicyParams } from '../types.js'
import { createRate, type RateEstimate } from './rate.js'
import { TargetTable, type TargetEntry } from './targets.js'

interface LocalTarget extends TargetEntry {
  assigned: boolean
  rate: RateEstimate
}

export class ReferenceLocalTable implements LocalTable {
  private readonly targets: TargetTable<LocalTarget>
  private assignedCount = 0
  private closed = false

  private checkOpen(): void {
    if (this.closed) throw new InvalidArgumentError('this local table is closed')
  }

  constructor(private readonly params: Readonly<PolicyParams>) {
    this.targets = new TargetTable(
      params.targetCapacity,
      (hash): LocalTarget => ({ hash, lastUsedUs: 0, assigned: false, rate: createRate(params.rateEstimator, params.unitTimeUs) }),
      (evicted) => {
        if (evicted.assigned) this.assignedCount--
      },
    )
  }

  assign(hash: number, timeUs: number, handedOff = false): void {
    this.checkOpen()
    checkHash(hash)
    checkTime(timeUs)
    let target = this.targets.get(hash)
    if (target === undefined) {
      target = this.targets.getOrInsert(hash, timeUs)
      target.rate.arrive(timeUs, 1)
    } else if (handedOff && this.params.localRate === 'served') {
      // "the request-time information is updated whenever the server processes a request"
      target.rate.arrive(timeUs, 1)
    }
    target.lastUsedUs = timeUs
    if (!target.assigned) {
      target.assigned = true
      this.assignedCount++
    }
  }

  check(hash: number, timeUs: number, ownLoad: number): boolean {
    this.checkOpen()
    checkHash(hash)
    checkTime(timeUs)
    checkLoad(ownLoad)
    const target = this.targets.get(hash)
    if (target === undefined) return false
    target.lastUsedUs = timeUs
    const rate = target.rate.arrive(timeUs, 1)
    if (target.assigned && rate >= this.params.hotThreshold && ownLoad < this.params.maxLoad) return true
    if (target.assigned) {
      target.assigned = false
      this.assignedCount--
    }
    return false
  }

  size(): number {
    this.checkOpen()
    return this.assignedCount
  }

  close(): void {
    this.closed = true
  }
}
