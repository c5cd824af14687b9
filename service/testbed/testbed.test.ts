// A 2-node test bed in network namespaces: a file served through a relay handoff from one
// node's namespace to the other's, fetched from a client machine's namespace, byte for byte;
// then torn down, with nothing left (namespaces, links, processes). Skipped, with the reason
// printed, only where this machine cannot make namespaces (not root, no iproute2).

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { listNamespaces, testbedUnavailable, NAME_PREFIX } from './network.js'
import { startTestbed } from './testbed.js'

const unavailable = testbedUnavailable()

/** Pids of processes whose command line mentions `text` (the test bed's own, by its prefix or docroot). */
function processesMentioning(text: string): number[] {
  const out = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout ?? ''
  return out
    .split('\n')
    .filter((line) => line.includes(text) && !line.includes('ps -eo'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
}

if (unavailable) {
  console.log(`testbed spec skipped: ${unavailable}`)
} else {
  test('2 nodes in namespaces: a relayed file arrives byte for byte at a client machine, then nothing is left', async () => {
    const bed = await startTestbed({ nodes: 2, clients: 1, policy: 'wrr', files: 12, cacheMb: 1, disk: null, front: true })
    let prefix = ''
    try {
      prefix = bed.info().prefix
      assert.ok(prefix.startsWith(NAME_PREFIX))
      // Every host in its own namespace, the bridge in one more: 1 dispatcher + 2 nodes + 1 client + front + bridge.
      assert.is(listNamespaces(prefix).length, 6)
      // The machine's own namespace gained no link.
      assert.not.match(spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' }).stdout, prefix)

      const files = (await readdir(bed.docroot, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).slice(0, 8)
      const rel = files.map((d) => join(d.parentPath ?? d.path, d.name).slice(bed.docroot.length))
      // Straight at node 0: WRR sends about half of them to node 1, which serves them by relay.
      const answers = await bed.fetchFrom(bed.clients[0], rel.map((r) => `${bed.nodes[0].url}${r}`))
      const relayed = answers.filter((a) => a.headers?.['x-l7-node'] === '1')
      assert.ok(relayed.length > 0, `no request was handed to node 1: ${JSON.stringify(answers.map((a) => a.headers ?? a.error))}`)
      for (const [i, a] of answers.entries()) {
        assert.is(a.status, 200, `${a.url}: ${a.error ?? a.status}`)
        assert.ok(a.body!.equals(await readFile(join(bed.docroot, rel[i]))), `${a.url}: bytes differ`)
      }
      for (const a of relayed) assert.is(a.headers!['x-l7-route'], 'handoff')
      // Through the layer-4 front too.
      const [viaFront] = await bed.fetchFrom(bed.clients[0], [`${bed.front!.url}${rel[0]}`])
      assert.is(viaFront.status, 200)
      // No route out: each host knows only the test bed's own /24.
      for (const n of bed.nodes) {
        const routes = spawnSync('ip', ['-n', n.host.netns, 'route', 'show'], { encoding: 'utf8' }).stdout.trim().split('\n')
        assert.equal(routes.map((r) => r.split(' ')[0]), ['10.77.0.0/24'])
      }
    } finally {
      await bed.close()
    }
    assert.equal(listNamespaces(prefix), [], 'namespaces left behind')
    assert.equal(processesMentioning(bed.docroot), [], 'processes left behind')
  })
}

test.run()
