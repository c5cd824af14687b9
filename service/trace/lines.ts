// Streams a file (plain or gzip, told apart by its magic bytes) as buffers that hold whole
// lines only, so parsers can split on bytes and never hold more than one chunk in memory.
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { InvalidArgumentError } from '../core/errors.js'

const CHUNK_BYTES = 1 << 20
/** A longer line is certainly not a log line: it is skipped, never buffered without bound. */
export const MAX_LINE_BYTES = 1 << 20

/**
 * What readLineChunks yields in place of a line longer than MAX_LINE_BYTES. Compared by
 * identity (`chunk === LONG_LINE`), never by content: a real line may start with a NUL byte.
 * Its bytes (NUL, '\n') keep line counting right for readers that only split on '\n'.
 */
export const LONG_LINE: Buffer = Buffer.from([0, 10])

export async function isGzipFile(path: string): Promise<boolean> {
  const handle = await open(path, 'r')
  try {
    const magic = Buffer.alloc(2)
    const { bytesRead } = await handle.read(magic, 0, 2, 0)
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b
  } finally {
    await handle.close()
  }
}

/**
 * The file's bytes (decompressed when gzip). A corrupt or truncated gzip stream ends in an
 * InvalidArgumentError that names the file (zlib's own errors name none).
 */
export async function* openByteStream(path: string, gzip: boolean): AsyncGenerator<Buffer> {
  const file = createReadStream(path, { highWaterMark: CHUNK_BYTES })
  if (!gzip) {
    yield* file
    return
  }
  const gunzip = createGunzip({ chunkSize: 256 * 1024 })
  file.on('error', (err) => gunzip.destroy(err))
  gunzip.on('close', () => file.destroy()) // a reader that stops early must not leak the fd
  try {
    yield* file.pipe(gunzip)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new InvalidArgumentError(`${path}: the gzip data is corrupt or truncated (${(err as Error).message})`)
    }
    throw err
  } finally {
    gunzip.destroy()
  }
}

/**
 * Yields buffers of complete lines (each ends with '\n', except possibly the file's last).
 * A line longer than MAX_LINE_BYTES is replaced by LONG_LINE, so the caller still counts it
 * (and reports it) at its right line number; at most MAX_LINE_BYTES + a chunk is ever held.
 */
export async function* readLineChunks(path: string): AsyncGenerator<Buffer> {
  const gzip = await isGzipFile(path)
  let carry: Buffer | undefined
  let skippingLongLine = false
  for await (const piece of openByteStream(path, gzip)) {
    let chunk: Buffer = piece
    if (skippingLongLine) {
      const nl = chunk.indexOf(10)
      if (nl < 0) continue
      skippingLongLine = false
      chunk = chunk.subarray(nl + 1)
    }
    if (carry) {
      // finish the carried line with the head of this chunk: copy that line only, not the chunk
      const nl = chunk.indexOf(10)
      if (nl < 0) {
        carry = Buffer.concat([carry, chunk])
        if (carry.length > MAX_LINE_BYTES) {
          carry = undefined
          skippingLongLine = true
          yield LONG_LINE
        }
        continue
      }
      yield carry.length + nl > MAX_LINE_BYTES ? LONG_LINE : Buffer.concat([carry, chunk.subarray(0, nl + 1)])
      carry = undefined
      chunk = chunk.subarray(nl + 1)
    }
    const lastNl = chunk.lastIndexOf(10)
    if (lastNl < 0) {
      if (chunk.length > MAX_LINE_BYTES) {
        skippingLongLine = true
        yield LONG_LINE
      } else if (chunk.length > 0) {
        carry = chunk
      }
      continue
    }
    if (lastNl + 1 < chunk.length) carry = chunk.subarray(lastNl + 1)
    yield chunk.subarray(0, lastNl + 1)
  }
  if (carry && carry.length > 0) yield carry
}
