// Node's own HTTP/1.x parser (llhttp, the one node:http uses), as a peer for the node's
// request-head parser. It is reached through process.binding, which Node keeps for such uses
// but marks deprecated; the warning is silenced for this one call.

export interface HTTPParserBinding {
  /** Parses one whole request head; returns the number of heads completed so far. */
  parse(bytes: Buffer): number
}

interface RawParser {
  initialize(type: number, resource: object): void
  execute(bytes: Buffer): number | Error
  [key: number]: unknown
}
interface RawBinding {
  HTTPParser: { new (): RawParser; REQUEST: number; kOnHeadersComplete: number }
}

export function loadLlhttp(): HTTPParserBinding {
  const emit = process.emitWarning
  process.emitWarning = () => {}
  let binding: RawBinding
  try {
    binding = (process as unknown as { binding(name: string): RawBinding }).binding('http_parser')
  } finally {
    process.emitWarning = emit
  }
  const { HTTPParser } = binding
  const parser = new HTTPParser()
  parser.initialize(HTTPParser.REQUEST, {})
  let heads = 0
  // node:http builds its IncomingMessage here; counting is the least a user of it does.
  parser[HTTPParser.kOnHeadersComplete] = () => {
    heads++
  }
  return {
    parse(bytes) {
      const r = parser.execute(bytes)
      if (r instanceof Error) throw r
      return heads
    },
  }
}
