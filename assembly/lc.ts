// lc: LVS's weighted least connections; see service/policy/reference/lc.ts.
import { nodeLoad, nodeWeight, upAt, upCount } from './state'

export function pickLc(): i32 {
  let best = upAt(0)
  for (let i = 1; i < upCount; i++) {
    const id = upAt(i)
    const mine = <f64>nodeLoad(id) * <f64>nodeWeight(best)
    const theirs = <f64>nodeLoad(best) * <f64>nodeWeight(id)
    if (mine < theirs || (mine == theirs && nodeLoad(id) < nodeLoad(best))) best = id
  }
  return best
}
