#!/usr/bin/env node
// Entry point of the `l7` CLI: oclif discovers the commands compiled into dist/cli/commands.
import { execute } from '@oclif/core'

await execute({ dir: import.meta.url })
