// Ctrl-C for commands that measure: the first one stops the run so that what was measured is
// still printed (and written); a second one quits at once with 130.

export interface Interruptible {
  /** Aborted at the first signal. */
  readonly signal: AbortSignal
  /** Stops listening (call when the run is over). */
  dispose(): void
}

export function interruptible(message: string, signals: NodeJS.Signals[] = ['SIGINT']): Interruptible {
  const controller = new AbortController()
  let interrupts = 0
  const onSignal = (): void => {
    if (++interrupts > 1) process.exit(130)
    process.stderr.write(`\nstopping: ${message} (Ctrl-C again to quit)\n`)
    controller.abort()
  }
  for (const s of signals) process.on(s, onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      for (const s of signals) process.off(s, onSignal)
    },
  }
}
