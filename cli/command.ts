// The base class of every l7 command: it tags a failure with the command's name as the user
// types it, so that bin/run.js (through cli/errors.ts) can print `Error: <what>, see
// `l7 <command> --help`` with the right exit code. Commands throw typed errors
// (service/core/errors.ts) or use this.error(); they never print errors themselves.
import { Command } from '@oclif/core'

export abstract class L7Command extends Command {
  protected override async catch(err: Error & { l7Command?: string }): Promise<unknown> {
    if (this.id && err && typeof err === 'object' && err.l7Command === undefined) err.l7Command = this.id.replaceAll(':', ' ')
    throw err
  }
}
