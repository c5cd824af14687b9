// Child-process plumbing shared by the cluster, the benchmarks and their peers: waiting for a
// typed IPC message from a child (failing when it reports failure, exits or takes too long),
// stopping a child (a signal, then SIGKILL when it does not exit in time), and starting tools
// (whether one is installed; pinning it to a core), and the CPU time processes have used
// (per-process accounting from /proc, for the benchmarks' CPU per request).

import { spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

/** Why a child did not send the message waited for. */
export type ChildWaitFailure =
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'failed'; message: string }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null }

/**
 * Resolves with the child's first IPC message of `type`; rejects with `error(failure)` when the
 * child sends `{ type: 'failed', message }`, exits, or sends nothing of `type` within `timeoutMs`.
 */
export function waitForMessage<M extends { type: string }, T extends M['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
  error: (failure: ChildWaitFailure) => Error,
): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(error({ kind: 'timeout', timeoutMs })), timeoutMs)
    const onMessage = (m: M) => {
      if (m.type === type) done(null, m as Extract<M, { type: T }>)
      else if (m.type === 'failed') done(error({ kind: 'failed', message: (m as unknown as { message: string }).message }))
    }
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => done(error({ kind: 'exit', code, signal }))
    function done(err: Error | null, m?: Extract<M, { type: T }>) {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(err)
      else resolve(m!)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

/** How long a stopped child has to exit before it is killed. */
export const STOP_GRACE_MS = 3000

/** Sends `signal` and waits for the exit; SIGKILL after STOP_GRACE_MS. Returns at once if it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}

/** Whether `command args` can be started at all (an installed tool; its exit code does not matter). */
export function canRun(command: string, args: string[]): boolean {
  return !spawnSync(command, args, { stdio: 'ignore' }).error
}

/** `argv` run through taskset on core `cpu`, or unchanged when no core is given. */
export function pinnedArgv(argv: string[], cpu: number | undefined): string[] {
  return cpu === undefined ? argv : ['taskset', '-c', String(cpu), ...argv]
}

/** utime + stime of a process so far, seconds (Linux /proc, USER_HZ = 100; 0 where unreadable). */
export async function processCpuSeconds(pid: number | undefined): Promise<number> {
  const { user, system } = await processCpuTimes(pid)
  return user + system
}

/** User and system (kernel) CPU seconds of a process so far, apart; zeros where unreadable. */
export async function processCpuTimes(pid: number | undefined): Promise<{ user: number; system: number }> {
  if (pid === undefined) return { user: 0, system: 0 }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields counted from the command name's closing parenthesis (the name may hold spaces):
    // fields[11] and fields[12] are utime and stime, fields 14 and 15 of proc(5).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 }
  } catch {
    return { user: 0, system: 0 }
  }
}

/** Pids whose parent is `pid` (for example nginx's workers under its master), from a scan of /proc. */
export function childPids(pid: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let text: string
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'latin1')
    } catch {
      continue // exited during the scan
    }
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1])
    if (ppid === pid) children.push(Number(entry))
  }
  return children
}

/** The process exists (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Node options that make a process run code other than its script, with whether they take a value. */
const RUNS_OTHER_CODE = new Map([
  ['-e', true],
  ['--eval', true],
  ['-p', true],
  ['--print', true],
  ['--input-type', true],
  ['-i', false],
  ['--interactive', false],
  ['--test', false],
])

/**
 * This process's Node options for a child it forks, less those that would make the child run
 * this process's code instead of its own script: fork() passes `process.execArgv` on, so a
 * cluster started from `node -e '...'` would otherwise fork copies of the `-e` code, each
 * starting a cluster of its own.
 */
export function childExecArgv(extra: readonly string[] = [], parent: readonly string[] = process.execArgv): string[] {
  const kept: string[] = []
  for (let i = 0; i < parent.length; i++) {
    const arg = parent[i]
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg
    const takesValue = RUNS_OTHER_CODE.get(name)
    if (takesValue === undefined) kept.push(arg)
    else if (takesValue && !arg.includes('=')) i++
  }
  return [...kept, ...extra]
}
