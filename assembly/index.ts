// Placeholder entry: replaced by the policy core (issue 2).
export function version(): i32 {
  return 1
}
