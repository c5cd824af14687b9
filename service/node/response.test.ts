import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { bodyLength, parseResponseHead } from './response.js'

const parse = (text: string) => parseResponseHead(Buffer.from(text, 'latin1'))

test('a node response head: status, length, keep-alive and where its Connection line is', () => {
  const text = 'HTTP/1.1 200 OK\r\nServer: l7\r\nContent-Length: 12\r\nConnection: keep-alive\r\nX-L7-Node: 2\r\n\r\nbody'
  const r = parse(text)
  assert.ok(typeof r === 'object' && !('error' in r))
  if (typeof r !== 'object' || 'error' in r) return
  assert.is(r.status, 200)
  assert.is(r.contentLength, 12)
  assert.is(r.keepAlive, true)
  assert.is(r.headEnd, text.indexOf('body'))
  assert.is(text.slice(r.connectionStart, r.connectionEnd), 'Connection: keep-alive\r\n')
  const close = parse('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n')
  assert.ok(typeof close === 'object' && !('error' in close) && close.keepAlive === false && close.status === 404)
  const ten = parse('HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n')
  assert.ok(typeof ten === 'object' && !('error' in ten) && ten.keepAlive === false)
})

test('incomplete, and refused: no length, bad length, bad status, too large', () => {
  assert.is(parse('HTTP/1.1 200 OK\r\nContent-Len'), 'incomplete')
  for (const bad of ['HTTP/1.1 200 OK\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'HTTX/1.1 200 OK\r\n\r\n', 'HTTP/1.1 2x0 OK\r\nContent-Length: 1\r\n\r\n']) {
    const r = parse(bad)
    assert.ok(typeof r === 'object' && 'error' in r, bad)
  }
  const big = parse('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(20_000))
  assert.ok(typeof big === 'object' && 'error' in big)
})

test('HEAD, 204 and 304 carry no body whatever their Content-Length', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n')
  if (typeof r !== 'object' || 'error' in r) throw new Error('parse')
  assert.is(bodyLength(r, 'GET'), 99)
  assert.is(bodyLength(r, 'HEAD'), 0)
  assert.is(bodyLength({ ...r, status: 304 }, 'GET'), 0)
})

test('never throws, whatever the bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      parseResponseHead(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.from(bytes), Buffer.from('\r\n\r\n')]))
      parseResponseHead(Buffer.from(bytes))
    }),
    { numRuns: 2000 },
  )
})

test.run()
