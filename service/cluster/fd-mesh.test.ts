import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { statSync } from 'node:fs'
import net from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { FdMesh, type MeshEnd } from './fd-mesh.js'

let root = ''

test.before.each(async () => {
  root = await mkdtemp(join(tmpdir(), 'l7-fd-mesh-test-'))
})

test.after.each(async () => {
  await rm(root, { recursive: true, force: true })
})

function meshIn(tmpRoot: string, options: { timeoutMs?: number; log?: (m: string) => void } = {}): FdMesh {
  const mesh = FdMesh.create({ tmpRoot, ...options })
  if (typeof mesh === 'string') throw new Error(mesh)
  return mesh
}

/** The end as a plain socket (this process only checks the ends are connected to each other). */
function socketOf(end: MeshEnd): net.Socket {
  return new net.Socket({ handle: end.handle, readable: true, writable: true } as net.SocketConstructorOpts)
}

async function exchange(a: net.Socket, b: net.Socket, text: string): Promise<void> {
  a.write(text)
  const [data] = (await once(b, 'data')) as [Buffer]
  assert.is(data.toString(), text)
}

test('one connected pair for every pair of nodes, each end with its peer; nothing left in the directory', async () => {
  const ends = await meshIn(root).pairs([0, 1, 2])
  assert.equal(
    [...ends].map(([id, list]) => [id, list.map((e) => e.peer)]),
    [
      [0, [1, 2]],
      [1, [0, 2]],
      [2, [0, 1]],
    ],
  )
  const sockets = new Map([...ends].map(([id, list]) => [id, new Map(list.map((e) => [e.peer, socketOf(e)]))]))
  try {
    for (const [a, b] of [
      [0, 1],
      [0, 2],
      [1, 2],
    ]) {
      await exchange(sockets.get(a)!.get(b)!, sockets.get(b)!.get(a)!, `from ${a} to ${b}`)
      await exchange(sockets.get(b)!.get(a)!, sockets.get(a)!.get(b)!, `from ${b} to ${a}`)
    }
  } finally {
    for (const list of sockets.values()) for (const s of list.values()) s.destroy()
  }
  assert.equal(await readdir(root), [])
  assert.equal([...(await meshIn(root).pairs([5])).values()], [[]])
})

test('a restarted node: each sibling connects to its own listener in a 0700 directory; one that does not is left out in time', async () => {
  const logs: string[] = []
  const mesh = meshIn(root, { timeoutMs: 300, log: (m) => logs.push(m) })
  const clients: net.Socket[] = []
  const modes: number[] = []
  const started = performance.now()
  const ends = await mesh.rejoin([1, 2, 3], (sibling, path) => {
    modes.push(statSync(dirname(path)).mode & 0o777)
    if (sibling !== 2) clients.push(net.connect(path))
  })
  const took = performance.now() - started
  try {
    assert.equal(
      ends.map((e) => e.peer),
      [1, 3],
    )
    assert.equal(modes, [0o700, 0o700, 0o700])
    assert.ok(took >= 250 && took < 2000, `${took} ms`)
    assert.is(logs.length, 1)
    assert.match(logs[0], /node 2's connection did not arrive within 300 ms/)
    const accepted = ends.map(socketOf)
    await exchange(clients[0], accepted[0], 'to the restarted node')
    await exchange(accepted[1], clients[1], 'from the restarted node')
    for (const s of accepted) s.destroy()
  } finally {
    for (const c of clients) c.destroy()
  }
  assert.equal(await readdir(root), [])
})

test('when a pair cannot be made, nothing is kept and the directory is gone', async () => {
  // A root that cannot hold a directory: the operation fails before listening, cleanly.
  const failed = await meshIn(join(root, 'missing', 'deeper'))
    .pairs([0, 1])
    .then(
      () => null,
      (err: Error) => err,
    )
  assert.instance(failed, Error)
  assert.equal(await readdir(root), [])
})

test.run()
