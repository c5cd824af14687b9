import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { stopChild, waitForMessage, type ChildWaitFailure } from './child-process.js'

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

test.run()
