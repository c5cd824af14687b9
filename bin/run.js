#!/usr/bin/env node
// Entry point of the `l7` CLI: oclif discovers the commands compiled into dist/cli/commands.
// Failures are reported here, once, in the format of cli/README.md (cli/errors.ts).
import { readFileSync } from 'node:fs'
import { flush, run } from '@oclif/core'

const argv = process.argv.slice(2)
try {
  await run(argv, import.meta.url)
  await flush()
} catch (err) {
  const { describeFailure } = await import('../dist/cli/errors.js')
  const failure = describeFailure(err, { debug: Boolean(process.env.DEBUG), argv, commands: commandNames() })
  if (failure.text) process.stderr.write(`${failure.text}\n`)
  process.exit(failure.code)
}

/** The commands as typed ("trace stats"), for "did you mean"; none if the manifest is missing. */
function commandNames() {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../oclif.manifest.json', import.meta.url), 'utf8'))
    return Object.keys(manifest.commands).map((id) => id.replaceAll(':', ' '))
  } catch {
    return []
  }
}
