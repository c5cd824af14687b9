// Adapts the dispatcher's control client (service/control-client/) to the node's ControlLink.
// TEMPORARY: the control client has not landed yet.

import { MissingDependencyError } from '../core/errors.js'
import type { ControlLink } from './node.js'

export interface NodeLinkOptions {
  url: string
  token: string
}

export function createNodeLink(_options: NodeLinkOptions): (node: { id: number; address: string; load: () => number }) => ControlLink {
  throw new MissingDependencyError('the control client (service/control-client) is not available yet')
}
