import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { findNginx, startNginx } from './nginx.js'

test('startNginx serves the docroot from a private temp dir (200, not 403) and stops', async () => {
  const nginx = findNginx()
  if (!nginx) {
    console.log('nginx is not installed (Debian: apt-get install -y nginx-light): startNginx not exercised')
    return
  }
  const dir = await mkdtemp(join(tmpdir(), 'l7-nginx-peer-'))
  try {
    const docroot = join(dir, 'www')
    await mkdir(docroot)
    await writeFile(join(docroot, 'a.bin'), Buffer.alloc(3000, 97))
    await writeFile(join(docroot, 'index.html'), '<p>x</p>')
    const server = await startNginx({ nginx, docroot, dir })
    try {
      const bin = await fetch(`http://127.0.0.1:${server.port}/a.bin`)
      assert.is(bin.status, 200)
      assert.is(bin.headers.get('content-type'), 'application/octet-stream')
      assert.is((await bin.arrayBuffer()).byteLength, 3000)
      const html = await fetch(`http://127.0.0.1:${server.port}/index.html`)
      assert.is(html.headers.get('content-type'), 'text/html')
      await html.arrayBuffer()
    } finally {
      await server.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
