import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { processBinding, streamWrapFrom } from './process-binding.js'

test('this Node has stream_wrap with every member l7 uses', () => {
  const stream = streamWrapFrom()
  assert.type(stream, 'object', String(stream))
  const s = stream as Exclude<typeof stream, string>
  assert.instance(s.state, Int32Array)
  assert.type(new s.WriteWrap(), 'object')
  assert.type(new s.ShutdownWrap(), 'object')
})

test('a Node without a member is told apart by its name, and nothing throws', () => {
  const without = (member: string) => (name: string) => {
    const copy = { ...(processBinding(name) as Record<string, unknown>) }
    delete copy[member]
    return copy
  }
  assert.is(streamWrapFrom(without('ShutdownWrap')), 'stream_wrap.ShutdownWrap')
  assert.is(streamWrapFrom(without('kLastWriteWasAsync')), 'stream_wrap.streamBaseState')
  assert.is(
    streamWrapFrom(() => {
      throw new Error('DEP0111')
    }),
    "process.binding('stream_wrap')",
  )
})

test.run()
