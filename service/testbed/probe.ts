// Run inside a test bed namespace (`ip netns exec <ns> node probe.js URL...`): the root
// namespace has no route to the test bed, so whatever the orchestrator reads from a host
// (a response, /metrics) is fetched from inside by this script and printed as one JSON line
// per URL: { url, status, headers, body (base64) } or { url, error }.

const TIMEOUT_MS = 5000

async function probe(url: string): Promise<Record<string, unknown>> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
    const body = Buffer.from(await response.arrayBuffer())
    return { url, status: response.status, headers: Object.fromEntries(response.headers), body: body.toString('base64') }
  } catch (err) {
    return { url, error: (err as Error).cause ? String((err as Error).cause) : (err as Error).message }
  }
}

for (const url of process.argv.slice(2)) process.stdout.write(JSON.stringify(await probe(url)) + '\n')
