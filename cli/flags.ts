// The flags several commands share, defined once (names, units, defaults as cli/README.md
// states them), and the parsers behind them: comma-separated lists (of policies, of numbers),
// numbers with a lower bound, durations (always with a unit; 0 where none is allowed), policy
// parameters, listen addresses, the emulated disk. Outside cli/commands/ so that oclif does not
// take it for a command. Bad input throws InvalidArgumentError naming the flag (exit code 2).

import { access } from 'node:fs/promises'
import { Args, Flags } from '@oclif/core'
import { InvalidArgumentError } from '../service/core/errors.js'
import { parseDiskModel, type DiskModel } from '../service/node/disk.js'
import { checkPolicy } from '../service/policy/params.js'
import type { PolicyName } from '../service/policy/types.js'
import { parseSeconds } from '../service/core/duration.js'
import { parseListen } from '../service/node/address.js'
import { DEFAULT_PARAMS, POLICY_NAMES, type PolicyParams } from '../service/policy/types.js'
import { parsePolicyParams } from '../service/sim/options.js'

export { parseSeconds }

/** "a, b,,c" -> ["a", "b", "c"]: items trimmed, empty ones dropped. */
export function commaList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

/** Comma-separated policy names, each checked (an unknown one is named in the error). */
export function parsePolicyList(text: string): PolicyName[] {
  const policies = commaList(text)
  for (const p of policies) checkPolicy(p)
  return policies as PolicyName[]
}

export interface NumberBounds {
  integer?: boolean
  /** Smallest value allowed. */
  min?: number
  max?: number
}

/** Comma-separated numbers within bounds, e.g. "4,16" for --nodes. */
export function parseNumberList(text: string, flag: string, bounds: NumberBounds = {}): number[] {
  const items = text.split(',').map((item) => item.trim())
  const values = items.map(Number)
  const fits = (value: number, i: number) =>
    items[i] !== '' &&
    Number.isFinite(value) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.max === undefined || value <= bounds.max)
  if (!values.every(fits)) {
    const kind = bounds.integer ? 'integers' : 'numbers'
    const range =
      bounds.min !== undefined && bounds.max !== undefined
        ? ` from ${bounds.min} to ${bounds.max}`
        : bounds.min !== undefined
          ? ` >= ${bounds.min}`
          : bounds.max !== undefined
            ? ` <= ${bounds.max}`
            : ''
    throw new InvalidArgumentError(`${flag}: expected comma-separated ${kind}${range}, got "${text}"`)
  }
  return values
}

/** A number given as text (flags such as --zipf or --cache-mb): at least `min`, or above `above`. */
export function parseNumber(text: string, flag: string, bound: { min: number } | { above: number }): number {
  const value = Number(text)
  const ok = text.trim() !== '' && Number.isFinite(value) && ('min' in bound ? value >= bound.min : value > bound.above)
  if (!ok) throw new InvalidArgumentError(`${flag} must be a number ${'min' in bound ? `>= ${bound.min}` : `above ${bound.above}`}, got "${text}"`)
  return value
}

/** A duration such as 20s, 1500ms or 2m in seconds, where "0" means none (a warm-up, an OFF time). */
export function parseSecondsOrZero(text: string, flag: string): number {
  return text.trim() === '0' ? 0 : parseSeconds(text, flag)
}

/** --disk: the emulated disk for cache misses (node, cluster). */
export const diskFlag = Flags.string({ description: 'emulate a disk for cache misses, e.g. seek=8ms,mbps=20 (off by default)' })

/** The --disk value: a disk model, or null when the flag is absent or "none". */
export function parseDiskFlag(text: string | undefined): DiskModel | null {
  return text === undefined || text === 'none' ? null : parseDiskModel(text)
}

// ---- Durations: the value carries its unit ("500ms", "20s", "2m", "1h"); a bare number is refused.

/** Seconds in a duration with its unit; "0" only when `zero` allows none (a warm-up, an OFF time). */
export function parseDuration(text: string, flag: string, zero = false): number {
  if (zero && text.trim() === '0') return 0
  if (!/^\s*[0-9]*\.?[0-9]+\s*(ms|s|m|h)\s*$/.test(text)) {
    throw new InvalidArgumentError(`${flag}: "${text}" is not a duration with a unit, write e.g. 500ms, 20s or 2m${zero ? ' (or 0 for none)' : ''}`)
  }
  return parseSeconds(text, flag)
}

/**
 * A duration flag, read as seconds. `default` is written with its unit ("20s") and shown so in
 * --help; `zero: true` also takes "0" (none).
 */
export function durationFlag(options: { description: string; default?: string; zero?: boolean; required?: boolean }) {
  const base = {
    description: options.description,
    helpValue: '<duration>',
    parse: async (input: string, _ctx: unknown, opts: { name: string }) => parseDuration(input, `--${opts.name}`, options.zero === true),
  }
  if (options.default === undefined) return options.required ? Flags.custom<number>({ ...base, required: true })() : Flags.custom<number>(base)()
  const text = options.default
  return Flags.custom<number>({
    ...base,
    default: parseDuration(text, 'default', options.zero === true),
    // The manifest and --help show this text, unit included, instead of a bare number of seconds.
    defaultHelp: async () => text,
  })()
}

// ---- Policies

/** --policy: the one policy a command runs. */
export function policyFlag(options: { description?: string; default?: string } = {}) {
  return Flags.string({ description: options.description ?? 'distribution policy', options: [...POLICY_NAMES], default: options.default ?? 'ds' })
}

/** --policies: the policies a command runs one after the other, comma-separated (check with parsePolicyList). */
export function policiesFlag(defaults: readonly string[], description = 'policies to run, comma-separated') {
  return Flags.string({ description: `${description} (any of ${POLICY_NAMES.join(', ')})`, default: defaults.join(',') })
}

const paramDefaults = Object.entries(DEFAULT_PARAMS)
  .map(([key, value]) => `${key}=${value}`)
  .join(', ')

/**
 * --param k=v,k=v: policy parameters (service/policy/types.ts PolicyParams), wherever a policy
 * runs; `lead` replaces the first words where a command's --param takes more (a reading's choices).
 */
export function paramFlagWith(lead?: string) {
  return Flags.string({
    description: lead
      ? `${lead}; policy parameters otherwise default to ${paramDefaults} (before a reading's own choices)`
      : `policy parameters, comma-separated key=value; unset ones keep their defaults: ${paramDefaults}`,
    helpValue: '<key=value,...>',
  })
}

export const paramFlag = paramFlagWith()

/** The --param value as PolicyParams (unknown keys and non-numbers named in the error). */
export function parseParamFlag(text: string | undefined): Partial<PolicyParams> {
  return text === undefined ? {} : parsePolicyParams(text)
}

// ---- Addresses, seeds, output

/** --listen host:port (a port alone means 127.0.0.1; port 0 picks a free port, see the ready line). */
export function listenFlag(defaultAddress: string, description = 'address to listen on, host:port (port 0: any free port, see the ready line)') {
  return Flags.custom<{ host: string; port: number }>({
    description,
    helpValue: '<host:port>',
    parse: async (input: string) => parseListen(input),
    default: parseListen(defaultAddress),
    defaultHelp: async () => defaultAddress,
  })()
}

/** --surge-seed: the SURGE workload (file set, objects, request sequence, users' think times). */
export function surgeSeedFlag(description = 'seed of the SURGE workload: file set, objects, request sequence') {
  return Flags.integer({ description, min: 0 })
}

/** --model-seed: the simulator's own random choices (users' start and think times). */
export function modelSeedFlag(defaultSeed: number) {
  return Flags.integer({ description: "seed of the simulator's own random choices (users' start and think times)", default: defaultSeed, min: 0 })
}

/** --arrival-seed: replay's Poisson arrival times. */
export const arrivalSeedFlag = Flags.integer({ description: 'rate mode: seed of the Poisson arrival times', default: 1, min: 0 })

/** --json: the command's result as one JSON document on stdout, and nothing else there. */
export function jsonFlag(what = 'print the results as one JSON document on stdout instead of a table') {
  return Flags.boolean({ description: what, default: false })
}

/** A duration flag's seconds as a whole number, for peers that take whole seconds (wrk, autocannon). */
export function wholeSeconds(seconds: number, flag: string): number {
  if (!Number.isInteger(seconds)) throw new InvalidArgumentError(`${flag} must be whole seconds (e.g. 3s), got ${seconds} s`)
  return seconds
}

/** --cache-mb: content cache per node, MiB. */
export function cacheMbFlag(defaultMb: number, description = 'content cache per node, MiB') {
  return Flags.string({ description, default: String(defaultMb) })
}

/** The --cache-mb value, a number of MiB >= 0. */
export function parseCacheMb(text: string): number {
  return parseNumber(text, '--cache-mb', { min: 0 })
}

/**
 * A file or directory the command reads, given as an argument: a missing one is a usage error
 * (exit code 2) naming the argument, before the command starts.
 */
export function inputPathArg(description: string) {
  return Args.custom<string>({
    parse: async (input: string, _ctx: unknown, opts: { name: string }) => {
      await access(input).catch(() => {
        throw new InvalidArgumentError(`${opts.name.toUpperCase()} ${input}: no such file or directory`)
      })
      return input
    },
  })({ description, required: true })
}
