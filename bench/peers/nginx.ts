// nginx as the benchmarks' peer web server: one worker process serving a document root on a
// free port of 127.0.0.1, optionally pinned to one core, stopped with its workers.

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { canRun, childPids, pinnedArgv, stopChild } from '../../service/core/child-process.js'
import { freePort } from '../../service/cluster/ports.js'
import { waitForPort } from './listening.js'

export const NGINX_MISSING = 'nginx is not installed (Debian: apt-get install -y nginx-light)'

/** The nginx binary (it may be outside a non-root PATH), or null when it is not installed. */
export function findNginx(): string | null {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) if (canRun(candidate, ['-v'])) return candidate
  return null
}

export interface NginxOptions {
  /** The binary, from findNginx(). */
  nginx: string
  docroot: string
  /** A private directory for the configuration, logs, pid file and temp files. */
  dir: string
  /** Pin nginx to this core (taskset); undefined: not pinned. */
  cpu?: number
}

export interface RunningNginx {
  port: number
  /** The master process (its workers are its children), for CPU accounting. */
  pid: number
  stop(): Promise<void>
}

export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const { nginx, docroot, dir } = options
  const port = await freePort()
  // nginx started as root runs its worker as nobody: the directory (and docroot below it)
  // must be readable to it, or every answer is a 403.
  await chmod(dir, 0o755)
  const temp = join(dir, 'nginx-tmp')
  await mkdir(temp, { recursive: true })
  // One worker, no access log; keep-alive connections are not recycled during a run.
  // sendfile on (with tcp_nopush): nginx as it is deployed to serve static files, so that l7
  // is compared with the peer at its best, not with a copy loop through user space.
  // Files are application/octet-stream but .html (no mime.types include: nothing else to load).
  const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000000;
  keepalive_timeout 65;
  types { text/html html; }
  default_type application/octet-stream;
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${docroot};
  }
}
`
  await writeFile(join(dir, 'nginx.conf'), conf)
  const argv = pinnedArgv([nginx, '-p', dir, '-e', join(dir, 'nginx-error.log'), '-c', join(dir, 'nginx.conf')], options.cpu)
  const proc = spawn(argv[0], argv.slice(1), { stdio: 'ignore' })
  const exited = once(proc, 'exit').then(([code]) => Promise.reject(new Error(`nginx exited with ${code}: see ${dir}/nginx-error.log`)))
  try {
    await Promise.race([waitForPort(port, 'nginx'), exited])
  } catch (err) {
    await stopNginx(proc)
    throw err
  }
  return { port, pid: proc.pid!, stop: () => stopNginx(proc) }
}

/**
 * SIGTERM (fast shutdown: a benchmark has no requests to finish), then SIGKILL after the grace
 * time; a worker outlives a master killed that way, so the workers left over are killed too.
 */
async function stopNginx(proc: ChildProcess): Promise<void> {
  const workers = proc.pid === undefined ? [] : childPids(proc.pid)
  await stopChild(proc, 'SIGTERM')
  // Only a worker still running nginx (not a pid reused since) is killed.
  for (const pid of workers) {
    if (commandName(pid) !== 'nginx') continue
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // it exited in the meantime
    }
  }
}

/** The command name of a running process (/proc/<pid>/comm), or null when there is none. */
function commandName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
  } catch {
    return null
  }
}
