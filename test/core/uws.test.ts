import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { loadUws } from '../../service/core/uws.js'

test('the native uWebSockets.js build loads on this Node', () => {
  const loaded = loadUws()
  assert.ok(loaded.native, loaded.reason)
  assert.type(loaded.uws.App, 'function')
})

test.run()
