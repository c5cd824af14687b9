// lard: basic LARD (Pai et al. 1998); see service/policy/reference/lard.ts.
import { leastLoaded, nodeLoad, overloaded } from './state'
import { E_OWNER, targetFor } from './targets'

export function pickLard(hash: u32, t: f64): i32 {
  const e = targetFor(hash, t)
  let server = load<i32>(e, E_OWNER)
  if (server < 0 || overloaded(nodeLoad(server))) {
    server = leastLoaded()
    store<i32>(e, server, E_OWNER)
  }
  return server
}
