// Processes on the test bed's hosts: each is started with `ip netns exec <ns>` (which execs, so
// the child's pid is the program's own and its CPU can be read from /proc), and is ready when it
// prints its `ready {json}` line. Their stderr is kept (the last lines) for error messages.

import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { L7Error } from '../core/errors.js'
import { stopChild } from '../core/child-process.js'

/** bin/run.js of this checkout: `l7` as the test bed runs it inside a namespace. */
export const L7_BIN = fileURLToPath(new URL('../../../bin/run.js', import.meta.url))

export interface HostProcess {
  readonly name: string
  readonly process: ChildProcess
  /** Everything printed on stdout so far. */
  stdout(): string
  /** The last lines printed on stderr. */
  stderrTail(): string
  /** Resolves when the process exits (its code, or null on a signal). */
  readonly exited: Promise<number | null>
  stop(signal?: NodeJS.Signals): Promise<void>
}

const STDERR_KEEP = 4096

/** Starts `argv` inside `netns`. */
export function startInNamespace(netns: string, name: string, argv: string[], env: NodeJS.ProcessEnv = {}): HostProcess {
  const child = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err = (err + chunk).slice(-STDERR_KEEP)
  })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', () => resolve(-1))
  })
  return {
    name,
    process: child,
    stdout: () => out,
    stderrTail: () => err.trim(),
    exited,
    stop: (signal = 'SIGTERM') => stopChild(child, signal),
  }
}

/** `l7 <args>` inside `netns`. */
export function startL7(netns: string, name: string, args: string[], env: NodeJS.ProcessEnv = {}): HostProcess {
  return startInNamespace(netns, name, [process.execPath, L7_BIN, ...args], env)
}

/** The JSON of the process's `ready {json}` line; fails if it exits or stays silent for `timeoutMs`. */
export function waitReady<T = Record<string, unknown>>(p: HostProcess, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      // `ready {json}`, or with --json a bare `{"event":"ready",...}` (cli/README.md)
      const m = /^ready (\{.*\})$/m.exec(p.stdout()) ?? /^(\{"event":"ready".*\})$/m.exec(p.stdout())
      if (!m) return false
      done()
      try {
        resolve(JSON.parse(m[1]) as T)
      } catch {
        reject(new L7Error('L7_TESTBED_START', `${p.name}: unreadable ready line ${m[0]}`))
      }
      return true
    }
    const onData = () => void check()
    const timer = setTimeout(() => {
      done()
      reject(new L7Error('L7_TESTBED_START', `${p.name} printed no ready line within ${timeoutMs / 1000} s${p.stderrTail() ? `: ${p.stderrTail()}` : ''}`))
    }, timeoutMs)
    const done = () => {
      clearTimeout(timer)
      p.process.stdout!.off('data', onData)
    }
    p.process.stdout!.on('data', onData)
    void p.exited.then((code) => {
      if (check()) return
      done()
      reject(new L7Error('L7_TESTBED_START', `${p.name} exited (${code}) before it was ready${p.stderrTail() ? `: ${p.stderrTail()}` : ''}`))
    })
    check()
  })
}
