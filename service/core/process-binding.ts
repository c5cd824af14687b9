// Node's internal bindings, for the two places l7 needs what Node's public API does not give:
// libuv stream handles written and read directly (service/node/client-stream.ts) and IPC pipes
// that carry descriptors (service/cluster/ipc-pipe.ts). Checked on Node 20.20.

/** Node's own `process.binding(name)` (undefined where a Node has dropped it). */
export function processBinding(name: string): unknown {
  const get = (process as unknown as { binding?: (name: string) => unknown }).binding
  return typeof get === 'function' ? get.call(process, name) : undefined
}
