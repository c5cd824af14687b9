import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { childExecArgv, childPids, processCpuSeconds, processCpuTimes, stopChild, waitForMessage, type ChildWaitFailure } from './child-process.js'

type Message = { type: 'ready'; port: number } | { type: 'failed'; message: string } | { type: 'other' }

/** A Node child running `code` with an IPC channel. */
function child(code: string) {
  return spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
}

const describe = (failure: ChildWaitFailure) => new Error(JSON.stringify(failure))

test('waitForMessage: resolves with the first message of the type, skipping others', async () => {
  const c = child(`process.send({ type: 'other' }); process.send({ type: 'ready', port: 7 }); process.disconnect()`)
  const m = await waitForMessage<Message, 'ready'>(c, 'ready', 5000, describe)
  assert.equal(m, { type: 'ready', port: 7 })
  await stopChild(c)
})

test('waitForMessage: a failed message, an exit and a timeout each reject with their reason', async () => {
  const failed = child(`process.send({ type: 'failed', message: 'no port' }); process.disconnect()`)
  await waitForMessage<Message, 'ready'>(failed, 'ready', 5000, describe).then(
    () => assert.unreachable('resolved'),
    (err: Error) => assert.equal(JSON.parse(err.message), { kind: 'failed', message: 'no port' }),
  )
  await stopChild(failed)
  const exits = child('process.exit(3)')
  await waitForMessage<Message, 'ready'>(exits, 'ready', 5000, describe).then(
    () => assert.unreachable('resolved'),
    (err: Error) => assert.equal(JSON.parse(err.message), { kind: 'exit', code: 3, signal: null }),
  )
  const silent = child('setTimeout(() => {}, 10000)')
  await waitForMessage<Message, 'ready'>(silent, 'ready', 100, describe).then(
    () => assert.unreachable('resolved'),
    (err: Error) => assert.equal(JSON.parse(err.message), { kind: 'timeout', timeoutMs: 100 }),
  )
  await stopChild(silent)
  assert.is(silent.signalCode, 'SIGTERM')
})

test('stopChild: SIGKILL when the signal is ignored; nothing to do once exited', async () => {
  const stubborn = spawn(process.execPath, ['-e', `process.on('SIGTERM', () => {}); console.log('up'); setTimeout(() => {}, 20000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise((resolve) => stubborn.stdout.once('data', resolve))
  const started = Date.now()
  await stopChild(stubborn)
  assert.is(stubborn.signalCode, 'SIGKILL')
  assert.ok(Date.now() - started >= 2900, 'killed only after the grace period')
  await stopChild(stubborn)
})

test('processCpuSeconds: a busy child\'s CPU as the child counts it; childPids finds it; a gone process counts 0', async () => {
  // The child spins until it has used 300 ms of CPU by its own count, then reports that count.
  const code = `while (process.cpuUsage().user + process.cpuUsage().system < 300000) {} const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1e6)); setTimeout(() => {}, 20000)`
  const busy = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  const own = Number(await new Promise<string>((resolve) => busy.stdout.once('data', (d) => resolve(String(d)))))
  assert.ok(childPids(process.pid).includes(busy.pid!))
  const used = await processCpuSeconds(busy.pid!)
  // /proc counts in 10 ms ticks, and the whole process (start-up, other threads) beside the spin
  assert.ok(used >= own - 0.03 && used < own + 0.5, `the child counted ${own} s, /proc ${used} s`)
  assert.ok((await processCpuSeconds(process.pid)) > 0)
  const { user, system } = await processCpuTimes(busy.pid!)
  // the spin calls getrusage(): its time is part user, part system
  assert.ok(user > 0 && system >= 0 && Math.abs(user + system - used) < 0.02, `user ${user} s + system ${system} s, total ${used} s`)
  await stopChild(busy)
  assert.is(await processCpuSeconds(busy.pid!), 0)
  assert.not.ok(childPids(process.pid).includes(busy.pid!))
})

test('childExecArgv drops what would make a forked child run the parent\'s code (-e, -p, --input-type, ...), keeps the rest', () => {
  assert.equal(childExecArgv([], ['--input-type=module', '-e', 'startCluster()', '--max-old-space-size=512']), ['--max-old-space-size=512'])
  assert.equal(childExecArgv(['--cpu-prof'], ['--eval', 'x', '-p', 'y', '--print=z', '--input-type', 'module', '-i', '--test', '--enable-source-maps']), ['--enable-source-maps', '--cpu-prof'])
  assert.equal(childExecArgv([], []), [])
})

test.run()
