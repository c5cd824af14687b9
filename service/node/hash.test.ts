import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { hashKey } from '../policy/index.js'
import { createTargetHasher } from './hash.js'
import { parseRequestHead } from './http.js'

test('the node hashes the path from the raw bytes as hashKey(path) does, Wasm and TS alike', async () => {
  const wasm = await createTargetHasher('wasm')
  const ts = await createTargetHasher('ts')
  for (const [target, path] of [
    ['/a.txt', '/a.txt'],
    ['/dir/x.html?q=1', '/dir/x.html'],
    ['http://host:80/p/q?z', '/p/q'],
    ['/%7Euser/', '/%7Euser/'],
  ]) {
    const buf = Buffer.from(`GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`)
    const parsed = parseRequestHead(buf)
    assert.ok('head' in parsed)
    if (!('head' in parsed)) return
    const { pathStart, pathEnd } = parsed.head
    assert.is(wasm(buf, pathStart, pathEnd), hashKey(path), target)
    assert.is(ts(buf, pathStart, pathEnd), hashKey(path), target)
  }
})

test.run()
