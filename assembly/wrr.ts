// wrr: LVS's weighted round robin (ip_vs_wrr.c); see service/policy/reference/wrr.ts.
import { maxNodes, nodeUp, nodeWeight, upAt, upCount } from './state'

let index: i32 = -1
let currentWeight: i32 = 0
let maxWeight: i32 = 0
let weightGcd: i32 = 1

function gcd(a: i32, b: i32): i32 {
  while (b != 0) {
    const r = a % b
    a = b
    b = r
  }
  return a
}

export function wrrMembershipChanged(): void {
  maxWeight = 0
  weightGcd = 0
  for (let i = 0; i < upCount; i++) {
    const w = nodeWeight(upAt(i))
    if (w > maxWeight) maxWeight = w
    weightGcd = gcd(weightGcd, w)
  }
  if (currentWeight > maxWeight) currentWeight = maxWeight
}

export function pickWrr(): i32 {
  while (true) {
    index = (index + 1) % maxNodes
    if (index == 0) {
      currentWeight -= weightGcd
      if (currentWeight <= 0) currentWeight = maxWeight
    }
    if (nodeUp(index) && nodeWeight(index) >= currentWeight) return index
  }
  return -1 // not reached: a node up has the largest weight
}
