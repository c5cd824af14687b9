import { test } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { hashKey } from '../policy/index.js'
import { createTargetHasher } from './hash.js'
import { parseRequestHead } from './http.js'
import { lexicalPath } from './paths.js'
import { targetHash } from './request-path.js'

const hasher = await createTargetHasher()

function hashOfRequest(path: string): number {
  const bytes = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`, 'latin1')
  const parsed = parseRequestHead(bytes)
  if (!('head' in parsed)) throw new Error(`parse ${path}`)
  const raw = bytes.toString('latin1', parsed.head.pathStart, parsed.head.pathEnd)
  const lexical = lexicalPath(raw)
  if ('status' in lexical) throw new Error(`lexical ${path}`)
  return targetHash(hasher, bytes, parsed.head, raw, lexical.rel)
}

test('one file, one hash: //, /./, percent-encoding, queries and absolute form all hash as the served path', () => {
  const key = hashKey('/a/b.html')
  for (const path of ['/a/b.html', '/a//b.html', '//a/b.html', '/./a/b.html', '/a/./b.html', '/%61/b.html', '/a/b%2ehtml', '/a/b.html?x=1', 'http://h/a/b.html']) {
    assert.is(hashOfRequest(path), key, path)
  }
  assert.is(hashOfRequest('/'), hashKey('/index.html'))
  assert.is(hashOfRequest('/d/'), hashKey('/d/index.html'))
  assert.is.not(hashOfRequest('/a/b.htm'), key)
})

test('property: any spelling of a path with extra slashes, dot segments and escapes hashes as its plain form', () => {
  const segment = fc.stringMatching(/^[a-z0-9_.-]{1,8}$/).filter((s) => s !== '.' && s !== '..')
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 5, maxLength: 5 }), (segments, noise) => {
      const plain = '/' + segments.join('/')
      const spelled =
        '/' +
        segments
          .map((s, i) => {
            const escaped = noise[i] === 1 ? `%${s.charCodeAt(0).toString(16)}${s.slice(1)}` : s
            return noise[i] === 2 ? `./${escaped}` : noise[i] === 3 ? `/${escaped}` : escaped
          })
          .join('/')
      assert.is(hashOfRequest(spelled), hashOfRequest(plain), `${spelled} vs ${plain}`)
      assert.is(hashOfRequest(plain), hashKey(plain))
    }),
    { numRuns: 500 },
  )
})

test.run()
