// URL keys and hashes: the rules, a published FNV-1a vector, and TypeScript == Wasm on
// arbitrary bytes and request lines (fast-check).
import fc from 'fast-check'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { fmix32, hashPath, hashRequestLine } from './hash.js'
import { hashKey, RequestHasher } from './index.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const hasher = new RequestHasher(4096)

test('FNV-1a 32 with the fmix32 finalizer (FNV-1a("a") = 0xe40c292c)', () => {
  assert.is(hashKey('a'), fmix32(0xe40c292c))
  assert.is(hashKey(''), fmix32(0x811c9dc5))
})

test('the key is the path: query dropped unless kept, fragment dropped, absolute form reduced', () => {
  assert.is(hashKey('/a/b.html?x=1'), hashKey('/a/b.html'))
  assert.is.not(hashKey('/a/b.html?x=1', true), hashKey('/a/b.html'))
  assert.is(hashKey('/a/b.html?x=1#top', true), hashKey('/a/b.html?x=1', true))
  assert.is(hashKey('/a#top'), hashKey('/a'))
  assert.is(hashKey('http://example.com/a/b.html?x=1'), hashKey('/a/b.html'))
  assert.is(hashKey('http://example.com'), hashKey('/'))
  assert.is(hashKey('http://example.com?q'), hashKey('/'))
  assert.is.not(hashKey('/a'), hashKey('/b'))
  const h = hashKey('/index.html')
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff)
})

test('request lines: the key of the target, -1 when malformed', () => {
  const good = (line: string, keepQuery = false): number => {
    const bytes = encode(line)
    const ts = hashRequestLine(bytes, 0, bytes.length, keepQuery)
    assert.is(hasher.hashRequestLine(bytes, 0, bytes.length, keepQuery), ts, line)
    return ts
  }
  assert.is(good('GET /a/b.html?x=1 HTTP/1.1'), hashKey('/a/b.html'))
  assert.is(good('GET /a/b.html?x=1 HTTP/1.1\r\n'), hashKey('/a/b.html'))
  assert.is(good('HEAD /a/b.html?x=1 HTTP/1.0\n', true), hashKey('/a/b.html?x=1', true))
  assert.is(good('GET http://h:80/a HTTP/1.1'), hashKey('/a'))
  for (const bad of ['', 'GET', 'GET /a', 'GET  /a HTTP/1.1', 'GET /a HTTP/1.1x', 'GET /a HTTP/11', ' GET /a HTTP/1.1', 'GET /a http/1.1', 'G(T /a HTTP/1.1', 'GET /a\tb HTTP/1.1']) {
    assert.is(good(bad), -1, JSON.stringify(bad))
  }
  // a line inside a larger buffer, and one written straight into the hasher's input
  const framed = encode('xxGET /in/frame HTTP/1.1\r\nHost: a\r\n')
  assert.is(hasher.hashRequestLine(framed, 2, 26), hashKey('/in/frame'))
  const length = new TextEncoder().encodeInto('GET /direct HTTP/1.1', hasher.input).written
  assert.is(hasher.hashRequestLine(hasher.input, 0, length), hashKey('/direct'))
  assert.is(hasher.hashPath(encode('/p?q'), 0, 4), hashKey('/p'))
})

test('TypeScript and Wasm agree on arbitrary bytes (hashPath, hashRequestLine)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, keepQuery) => {
      assert.is(hasher.hashPath(bytes, 0, bytes.length, keepQuery), hashPath(bytes, 0, bytes.length, keepQuery))
      assert.is(hasher.hashRequestLine(bytes, 0, bytes.length, keepQuery), hashRequestLine(bytes, 0, bytes.length, keepQuery))
    }),
    { numRuns: 2000 },
  )
})

test('TypeScript and Wasm agree on well-formed request lines, and match hashKey', () => {
  const pathChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?#=&%:@!$+,;'.split(''))
  const target = fc.oneof(
    fc.array(pathChar, { maxLength: 80 }).map((chars) => '/' + chars.join('')),
    fc.tuple(fc.constantFrom('http', 'https'), fc.domain(), fc.array(pathChar, { maxLength: 40 })).map(
      ([scheme, host, chars]) => `${scheme}://${host}${chars.length > 0 ? '/' : ''}${chars.join('')}`,
    ),
  )
  const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'M-SEARCH')
  const ending = fc.constantFrom('', '\r\n', '\n')
  fc.assert(
    fc.property(method, target, fc.constantFrom('1.0', '1.1'), ending, fc.boolean(), (m, t, version, end, keepQuery) => {
      const bytes = encode(`${m} ${t} HTTP/${version}${end}`)
      const ts = hashRequestLine(bytes, 0, bytes.length, keepQuery)
      assert.is(ts, hashKey(t, keepQuery))
      assert.is(hasher.hashRequestLine(bytes, 0, bytes.length, keepQuery), ts)
    }),
    { numRuns: 2000 },
  )
})

test.run()
