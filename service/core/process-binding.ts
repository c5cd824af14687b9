// Node's internal bindings, for the two places l7 needs what Node's public API does not give:
// libuv stream handles written and read directly (service/node/client-stream.ts) and IPC pipes
// that carry descriptors (service/cluster/ipc-pipe.ts). Checked on Node 20.20, whose net and
// child_process use the same members (lib/internal/stream_base_commons.js).

/** Node's own `process.binding(name)` (undefined where a Node has dropped it). */
export function processBinding(name: string): unknown {
  const get = (process as unknown as { binding?: (name: string) => unknown }).binding
  return typeof get === 'function' ? get.call(process, name) : undefined
}

/** Binding `name` from `binding` as an object, or null (absent, or refused: --throw-deprecation and the like). */
export function bindingObject(binding: (name: string) => unknown, name: string): Record<string, unknown> | null {
  try {
    const b = binding(name)
    return b !== null && typeof b === 'object' ? (b as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/** stream_wrap: the write and shutdown requests of libuv streams and the state they share with JavaScript. */
export interface StreamWrap {
  WriteWrap: new () => unknown
  ShutdownWrap: new () => unknown
  /** After a read: the byte count or a negative libuv error at kReadBytesOrError, its offset at kArrayBufferOffset; after a write: kLastWriteWasAsync. */
  state: Int32Array
  kReadBytesOrError: number
  kArrayBufferOffset: number
  kLastWriteWasAsync: number
}

/** stream_wrap from `binding` (process.binding, or a stand-in in specs), or the name of what is missing. */
export function streamWrapFrom(binding: (name: string) => unknown = processBinding): StreamWrap | string {
  const s = bindingObject(binding, 'stream_wrap')
  if (!s) return "process.binding('stream_wrap')"
  if (typeof s.WriteWrap !== 'function') return 'stream_wrap.WriteWrap'
  if (typeof s.ShutdownWrap !== 'function') return 'stream_wrap.ShutdownWrap'
  const { streamBaseState, kReadBytesOrError, kArrayBufferOffset, kLastWriteWasAsync } = s
  if (!(streamBaseState instanceof Int32Array) || typeof kReadBytesOrError !== 'number' || typeof kArrayBufferOffset !== 'number' || typeof kLastWriteWasAsync !== 'number') {
    return 'stream_wrap.streamBaseState'
  }
  return {
    WriteWrap: s.WriteWrap as new () => unknown,
    ShutdownWrap: s.ShutdownWrap as new () => unknown,
    state: streamBaseState,
    kReadBytesOrError,
    kArrayBufferOffset,
    kLastWriteWasAsync,
  }
}

/** libuv's UV_EOF: the peer ended its side. */
export const UV_EOF = -4095
