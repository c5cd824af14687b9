import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { ipcPipesFrom, loadIpcPipes } from './ipc-pipe.js'

const real = (name: string) => (process as unknown as { binding(name: string): unknown }).binding(name)

test('this Node has every member the channels use', () => {
  const pipes = loadIpcPipes()
  assert.type(pipes, 'object', String(pipes))
  const ipc = (pipes as Exclude<typeof pipes, string>).pipe('ipc')
  assert.type(ipc.writeBuffer, 'function')
  ipc.close()
})

test('a Node without them is told apart, saying what is missing, and nothing throws', () => {
  const without = (drop: string, member?: string) => (name: string) => {
    if (name !== drop) return real(name)
    if (!member) return undefined
    const copy = { ...(real(name) as Record<string, unknown>) }
    delete copy[member]
    return copy
  }
  assert.match(String(ipcPipesFrom(without('pipe_wrap'))), /lacks process.binding\('pipe_wrap'\).*through the cluster parent/)
  assert.match(String(ipcPipesFrom(without('stream_wrap', 'streamBaseState'))), /lacks stream_wrap.streamBaseState/)
  assert.match(String(ipcPipesFrom(without('pipe_wrap', 'constants'))), /lacks pipe_wrap.constants/)
  assert.match(
    String(
      ipcPipesFrom(() => {
        throw new Error('DEP0111')
      }),
    ),
    /lacks process.binding/,
  )
})

test.run()
