import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { MAX_HEAD, MAX_REQUEST_LINE, parseRequestHead } from './http.js'
import { decodedLexicalPath, lexicalPath } from './paths.js'

const parse = (text: string) => parseRequestHead(Buffer.from(text, 'latin1'))

test('request heads: version, keep-alive, path range, absolute form', () => {
  const r = parse('GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\nrest')
  assert.ok('head' in r)
  if (!('head' in r)) return
  assert.is(r.head.method, 'GET')
  assert.is(r.head.version, 11)
  assert.is(r.head.keepAlive, true)
  assert.is(r.head.target, '/a/b.html?x=1')
  assert.is(Buffer.from('GET /a/b.html?x=1 HTTP/1.1').toString('latin1', r.head.pathStart, r.head.pathEnd), '/a/b.html')
  assert.is(r.head.headEnd, 'GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n'.length)
  const ten = parse('GET / HTTP/1.0\r\n\r\n')
  assert.ok('head' in ten && ten.head.keepAlive === false)
  const close = parse('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')
  assert.ok('head' in close && close.head.keepAlive === false)
  const abs = parse('GET http://example.com/x?y HTTP/1.1\r\nHost: example.com\r\n\r\n')
  assert.ok('head' in abs)
  if ('head' in abs) assert.is(abs.head.target.slice(abs.head.pathStart - 4, abs.head.pathEnd - 4), '/x')
})

test('HTTP/1.1 without Host, bare LF and HTTP/0.9 are refused at once (RFC 9112 3.2, 2.2)', () => {
  const noHost = parse('GET / HTTP/1.1\r\n\r\n')
  assert.ok('error' in noHost && noHost.error.status === 400 && /Host/.test(noHost.error.reason))
  assert.ok('head' in parse('GET / HTTP/1.0\r\n\r\n'), 'HTTP/1.0 needs no Host')
  const bareLf = parse('GET / HTTP/1.1\nHost: h\n\n')
  assert.ok('error' in bareLf && bareLf.error.status === 400)
  const bareLfHeader = parse('GET / HTTP/1.1\r\nHost: h\n')
  assert.ok('error' in bareLfHeader && bareLfHeader.error.status === 400)
  const http09 = parse('GET /\r\n')
  assert.ok('error' in http09 && http09.error.status === 400)
})

test('forwardable heads, and Expect', () => {
  const plain = parse('GET /a HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n')
  assert.ok('head' in plain && plain.head.forwardable && plain.head.expect === null)
  for (const extra of ['Connection: close', 'Expect: 100-continue', 'Keep-Alive: 5', 'X-L7-Handoff: 1.dispatched.0.00', 'Upgrade: h2c']) {
    const r = parse(`GET /a HTTP/1.1\r\nHost: h\r\n${extra}\r\n\r\n`)
    assert.ok('head' in r && !r.head.forwardable, extra)
  }
  const ten = parse('GET /a HTTP/1.0\r\n\r\n')
  assert.ok('head' in ten && !ten.head.forwardable, 'HTTP/1.0 is rebuilt as 1.1 keep-alive')
  const expect = parse('GET /a HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n')
  assert.ok('head' in expect && expect.head.expect === '100-continue')
})

test('incomplete heads wait; oversized ones are 414/431', () => {
  assert.ok('incomplete' in parse('GET / HTTP/1.1\r\nHost: h\r\n'))
  assert.ok('incomplete' in parse('GET /abc'))
  const long = parse(`GET /${'a'.repeat(MAX_REQUEST_LINE)}`)
  assert.ok('error' in long && long.error.status === 414)
  const big = parse(`GET / HTTP/1.1\r\nX: ${'b'.repeat(MAX_HEAD)}`)
  assert.ok('error' in big && big.error.status === 431)
})

test('the parser never throws and never reads past the head, whatever the bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const r = parseRequestHead(Buffer.from(bytes))
      if ('head' in r) assert.ok(r.head.headEnd <= bytes.length && r.head.pathStart <= r.head.pathEnd)
    }),
    { numRuns: 2000 },
  )
})

test('lexical paths: decoded once, dot-dot, NUL and backslash refused', () => {
  assert.equal(lexicalPath('/a/b.txt'), { rel: 'a/b.txt' })
  assert.equal(lexicalPath('/a%20b.txt'), { rel: 'a b.txt' })
  assert.equal(lexicalPath('/'), { rel: 'index.html' })
  assert.equal(lexicalPath('/dir/'), { rel: 'dir/index.html' })
  assert.equal(lexicalPath('/./a//b'), { rel: 'a/b' })
  for (const bad of ['/../x', '/a/%2e%2e/x', '/%2e%2e%2fx', '/a%00', '/a%5c..', '/%zz', 'x']) {
    const r = lexicalPath(bad)
    assert.ok('status' in r, bad)
  }
  fc.assert(
    fc.property(fc.string(), (s) => {
      const r = lexicalPath('/' + s)
      if ('rel' in r) assert.not.ok(r.rel.split('/').includes('..') || r.rel.startsWith('/') || r.rel.includes('\0'))
    }),
  )
})

test('property: the shortcut for plain paths answers as the full decoding does', () => {
  const pathChar = fc.constantFrom(...'ab.Z09-_~/%2e5c+:@!$&()*;,= '.split(''))
  fc.assert(
    fc.property(fc.array(pathChar, { maxLength: 24 }), (chars) => {
      const raw = '/' + chars.join('')
      assert.equal(lexicalPath(raw), decodedLexicalPath(raw), raw)
    }),
    { numRuns: 2000 },
  )
})

test.run()
