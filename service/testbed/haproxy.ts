// The test bed's layer-4 front, as the seed's switch: HAProxy in `mode tcp`, round robin over
// the nodes, with health checks so that a dead node stops receiving new clients. It runs in its
// own namespace in the foreground (-db) and is stopped with the test bed.

import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { MissingDependencyError } from '../core/errors.js'

export const FRONT_PORT = 80

export function haproxyAvailable(): boolean {
  return !spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).error
}

/** The configuration: one TCP frontend on the front's address, the nodes behind it. */
export function haproxyConfig(listen: string, nodes: { id: number; address: string; port: number }[]): string {
  return [
    'global',
    '  maxconn 4000',
    '  nbthread 1',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A node found down sends its new clients elsewhere; established ones fail, as on a switch.
    '  option redispatch',
    '  retries 1',
    'frontend front',
    `  bind ${listen}:${FRONT_PORT}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    ...nodes.map((n) => `  server n${n.id} ${n.address}:${n.port} check inter 500ms fall 2 rise 2`),
    '',
  ].join('\n')
}

/** Writes the configuration into `dir` and returns the argv that runs HAProxy on it. */
export async function haproxyArgv(dir: string, config: string): Promise<string[]> {
  if (!haproxyAvailable()) throw new MissingDependencyError('the test bed\'s front needs HAProxy: apt-get install -y haproxy')
  const path = join(dir, 'haproxy.cfg')
  await writeFile(path, config)
  return ['haproxy', '-db', '-f', path]
}
