// Creates a file set on disk: /<i>.txt with the exact (optionally scaled) size and content
// that depends only on the seed and the file's index. Written in 64 KB pieces, so a 3 MB file
// never sits whole in memory.
import { mkdir, open } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidArgumentError } from '../core/errors.js'
import { Random } from './random.js'

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const PIECE_BYTES = 64 * 1024
const LINE_CHARS = 64

export interface MaterializeOptions {
  docroot: string
  /** Size factor for small machines: each file becomes max(1, round(size * scale)) bytes. */
  scale?: number
}

export function scaledSize(size: number, scale: number): number {
  return Math.max(1, Math.round(size * scale))
}

/** Fills `piece` with the file's next bytes: printable text, a newline every 64 characters. */
function fillPiece(piece: Buffer, length: number, rng: Random, offset: number): void {
  let word = 0
  let left = 0
  for (let i = 0; i < length; i++) {
    if ((offset + i) % (LINE_CHARS + 1) === LINE_CHARS) {
      piece[i] = 10
      continue
    }
    if (left === 0) {
      word = rng.nextUint32()
      left = 4
    }
    piece[i] = ALPHABET.charCodeAt(word & 63)
    word >>>= 8
    left--
  }
}

export async function writeFileContent(path: string, size: number, seed: number, index: number, piece: Buffer): Promise<void> {
  const rng = new Random(seed, `content:${index}`)
  const handle = await open(path, 'w')
  try {
    for (let offset = 0; offset < size; offset += PIECE_BYTES) {
      const length = Math.min(PIECE_BYTES, size - offset)
      fillPiece(piece, length, rng, offset)
      await handle.write(piece, 0, length)
    }
  } finally {
    await handle.close()
  }
}

export async function materialize(
  files: readonly { size: number }[],
  seed: number,
  options: MaterializeOptions,
): Promise<{ files: number; bytes: number }> {
  const scale = options.scale ?? 1
  if (!(scale > 0 && Number.isFinite(scale))) throw new InvalidArgumentError(`scale must be a positive number, got ${scale}`)
  await mkdir(options.docroot, { recursive: true })
  const piece = Buffer.allocUnsafe(PIECE_BYTES)
  let bytes = 0
  for (let i = 0; i < files.length; i++) {
    const size = scaledSize(files[i].size, scale)
    await writeFileContent(join(options.docroot, `${i}.txt`), size, seed, i, piece)
    bytes += size
  }
  return { files: files.length, bytes }
}
