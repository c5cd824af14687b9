import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { lexicalPath } from '../node/paths.js'
import { fileOfTarget, formatMaterializeLog, materializeLog } from './materialize-log.js'

const dir = mkdtempSync(join(tmpdir(), 'l7-materialize-log-'))

function clf(url: string, status: number, size: number | '-', method = 'GET'): string {
  return `h - - [10/Oct/2000:13:55:36 -0700] "${method} ${url} HTTP/1.0" ${status} ${size}`
}

const log = join(dir, 'access.log')
writeFileSync(
  log,
  [
    clf('/index.html', 200, 500),
    clf('/index.html', 200, 700), // the largest 200 wins
    clf('/index.html', 304, '-'),
    clf('/img/a.gif', 200, 1000),
    clf('/img/a.gif', 200, 2000),
    clf('/img/big.gif', 404, 9999), // a size, but not of a 200: the default
    clf('/cgi-bin/q?x=1', 200, 300), // query strings: one file, the path, the largest size
    clf('/cgi-bin/q?y=2', 200, 30),
    clf('/docs/', 200, 40), // a directory: its index.html
    clf('/a b.html', 200, 11), // a raw space: as replay sends it, %20, decoded by the node
    clf('/bad%00name', 200, 5), // the node refuses NUL
    clf('/../etc/passwd', 200, 5),
    clf('/clash', 302, '-'), // both a file and a directory: the side with more 200s is kept
    clf('/clash/inner', 200, 6),
    clf('/script?a=1', 200, 50), // a script with a path after it: the file is kept
    clf('/script?a=2', 200, 50),
    clf('/script/extra', 200, 7),
    clf('/' + 'n'.repeat(300), 200, 5),
    clf('/cgi-bin/post', 200, 0, 'POST'),
  ].join('\n') + '\n',
)

test('each requested path becomes a file as large as its largest 200 response; queries dropped; the default elsewhere', async () => {
  const root = join(dir, 'root')
  const result = await materializeLog(log, { docroot: root })
  const size = (rel: string): number => statSync(join(root, rel)).size
  assert.is(size('index.html'), 700)
  assert.is(size('img/a.gif'), 2000)
  assert.is(size('cgi-bin/q'), 300)
  assert.is(size('docs/index.html'), 40)
  assert.is(size('a b.html'), 11)
  assert.is(size('clash/inner'), 6)
  assert.is(size('cgi-bin/post'), 0)
  assert.is(size('script'), 50)
  // median of the placed paths' 200 sizes: 0 6 7 11 30 40 50 50 300 500 700 1000 2000 -> 50
  assert.is(result.defaultSize, 50)
  assert.is(size('img/big.gif'), 50)
  assert.is(result.defaulted, 1)
  assert.is(result.files, 9)
  assert.is(result.requests, 19)
  assert.is(result.placedRequests, 14)
  const reasons = Object.fromEntries(result.unplaced.map((u) => [u.reason, u.requests]))
  assert.equal(reasons, {
    'the node refuses it: NUL in path': 1,
    'the node refuses it: dot-dot segment in path': 1,
    'both a file and a directory of other paths, which the log served more often (the directory is kept)': 1,
    'under a path that is also a file, which the log served more often (the file is kept)': 1,
    'a name longer than 255 bytes': 1,
  })
  assert.match(formatMaterializeLog(result), /not placed: 1 requests, the node refuses it: NUL in path; e.g. "\/bad%00name"/)
  // nothing but the docroot was left beside it
  assert.equal(readdirSync(dir).sort(), ['access.log', 'root'])
})

test('the files are where the node looks: lexicalPath of each placed target finds a file', () => {
  const root = join(dir, 'root')
  for (const url of ['/index.html', '/cgi-bin/q?x=1', '/docs/', '/a%20b.html', '/img/big.gif']) {
    const lexical = lexicalPath(url.split('?')[0])
    assert.ok('rel' in lexical && existsSync(join(root, lexical.rel)), url)
  }
  assert.equal(fileOfTarget('/a b.html'), { rel: 'a b.html' })
  assert.equal(fileOfTarget('http://x/y'), { reason: 'not a path (absolute or asterisk form)' })
})

test('content is deterministic: the same log gives byte-identical files', async () => {
  const again = join(dir, 'again')
  await materializeLog(log, { docroot: again })
  for (const rel of ['index.html', 'img/a.gif', 'cgi-bin/q']) {
    assert.ok(readFileSync(join(dir, 'root', rel)).equals(readFileSync(join(again, rel))), rel)
  }
  assert.match(readFileSync(join(again, 'index.html'), 'latin1'), /^[A-Za-z0-9+/\n]+$/)
  rmSync(again, { recursive: true })
})

test('no partial tree: a log that fails mid-way, or a docroot that is not empty, leaves nothing behind', async () => {
  const cut = join(dir, 'cut.log.gz')
  const whole = gzipSync(Array.from({ length: 20_000 }, (_, i) => clf(`/f${i}`, 200, 10)).join('\n'))
  writeFileSync(cut, whole.subarray(0, whole.length - 40))
  const root = join(dir, 'cut-root')
  try {
    await materializeLog(cut, { docroot: root })
    assert.unreachable('a truncated log was accepted')
  } catch (err) {
    assert.match((err as Error).message, /gzip data is corrupt or truncated/)
  }
  assert.not.ok(existsSync(root))
  assert.equal(readdirSync(dir).filter((name) => name.includes('tmp')), [])

  const full = join(dir, 'full')
  mkdirSync(full)
  writeFileSync(join(full, 'keep.txt'), 'mine')
  try {
    await materializeLog(log, { docroot: full })
    assert.unreachable('a non-empty docroot was accepted')
  } catch (err) {
    assert.match((err as Error).message, /exists and is not an empty directory/)
  }
  assert.equal(readdirSync(full), ['keep.txt'])
  rmSync(cut)
  rmSync(full, { recursive: true })
})

test.after(() => rmSync(dir, { recursive: true, force: true }))

test.run()
