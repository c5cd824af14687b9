#!/usr/bin/env node
// Runs every compiled spec (dist/**/*.test.js) with uvu and ends with the plain
// "N passed, N failed" line that CI reads. A pattern argument narrows the run.
import { spawnSync } from 'node:child_process'

const pattern = process.argv[2] ?? '\\.test\\.js$'
const result = spawnSync(process.execPath, ['node_modules/uvu/bin.js', 'dist', pattern, '-i', 'node_modules'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 256 * 1024 * 1024,
})
process.stdout.write(result.stdout ?? '')
const total = /Total:\s+(\d+)/.exec(result.stdout ?? '')
const passed = /Passed:\s+(\d+)/.exec(result.stdout ?? '')
if (total && passed) {
  const failed = Number(total[1]) - Number(passed[1])
  console.log(`${passed[1]} passed, ${failed} failed`)
}
process.exit(result.status ?? 1)
