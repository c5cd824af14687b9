// Helpers shared by the node and cluster specs: a raw HTTP/1.x client that reads responses
// by Content-Length (so keep-alive and exact bytes can be checked), and a document root
// with files of chosen sizes.

import net from 'node:net'
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RawResponse {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/** Parses every complete response in `data` (HEAD responses have no body if `head`). */
export function parseResponses(data: Buffer, heads: boolean[] = []): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = []
  let p = 0
  for (;;) {
    const end = data.indexOf('\r\n\r\n', p)
    if (end < 0) break
    const lines = data.toString('latin1', p, end).split('\r\n')
    const status = Number(lines[0].split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':')
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
    }
    const length = heads[responses.length] ? 0 : Number(headers['content-length'] ?? 0)
    if (data.length < end + 4 + length) break
    responses.push({ status, headers, body: data.subarray(end + 4, end + 4 + length) })
    p = end + 4 + length
  }
  return { responses, rest: data.subarray(p) }
}

/** Sends raw bytes and collects `expect` responses (or everything until the server closes). */
export function rawExchange(port: number, request: string | Buffer, expect = 1, heads: boolean[] = [], timeoutMs = 10_000): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let done = false
    const finish = (err?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err) reject(err)
      else resolve(parseResponses(Buffer.concat(chunks), heads).responses)
    }
    const timer = setTimeout(() => finish(new Error('raw exchange timed out')), timeoutMs)
    socket.on('data', (c) => {
      chunks.push(c)
      if (parseResponses(Buffer.concat(chunks), heads).responses.length >= expect) finish()
    })
    socket.on('end', () => finish())
    socket.on('error', (err) => finish(err))
    socket.write(request)
  })
}

export function get(path: string, extra = '', version = '1.0'): string {
  return `GET ${path} HTTP/${version}\r\nHost: test\r\n${extra}\r\n`
}

/** A temporary document root: files named `<size>.bin` with deterministic bytes. */
export async function makeDocroot(sizes: number[], prefix = 'l7-node-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  await mkdir(join(dir, 'sub'), { recursive: true })
  for (const size of sizes) await writeFile(join(dir, `${size}.bin`), fileBytes(size))
  return dir
}

export function fileBytes(size: number): Buffer {
  const b = Buffer.allocUnsafe(size)
  let x = size * 2654435761 + 1
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

/** Sends requests one after another on one keep-alive connection, each after the previous response. */
export function keepAliveSequence(port: number, requests: string[], gapMs = 0, timeoutMs = 10_000): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const responses: RawResponse[] = []
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`keep-alive sequence timed out after ${responses.length} responses`))
    }, timeoutMs)
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk])
      const parsed = parseResponses(data)
      if (parsed.responses.length === 0) return
      responses.push(...parsed.responses)
      data = Buffer.from(parsed.rest)
      if (responses.length >= requests.length) {
        clearTimeout(timer)
        socket.destroy()
        resolve(responses)
      } else {
        const next = requests[responses.length]
        setTimeout(() => socket.write(next), gapMs)
      }
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    socket.write(requests[0])
  })
}

/**
 * Pipelines `requests` on one connection, each in its own segment `gapMs` apart, without
 * waiting for responses, and collects `requests.length` responses (`heads`: HEAD requests).
 */
export function pipelinedSegments(port: number, requests: string[], gapMs = 5, heads: boolean[] = [], timeoutMs = 10_000): Promise<RawResponse[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    let data = Buffer.alloc(0)
    let sent = 0
    const timer = setTimeout(() => finish(new Error(`pipelined requests timed out: ${parseResponses(data, heads).responses.length} of ${requests.length} answered`)), timeoutMs)
    const writer = setInterval(() => {
      if (sent < requests.length && !socket.destroyed) socket.write(requests[sent++])
      if (sent >= requests.length) clearInterval(writer)
    }, gapMs)
    function finish(err?: Error): void {
      clearTimeout(timer)
      clearInterval(writer)
      socket.destroy()
      if (err) reject(err)
      else resolve(parseResponses(data, heads).responses)
    }
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk])
      if (parseResponses(data, heads).responses.length >= requests.length) finish()
    })
    socket.on('end', () => finish())
    socket.on('error', (err) => finish(err))
  })
}
