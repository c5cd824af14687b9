// Trace replay: load generation with latency measured from the scheduled send times.
export { runReplay, classifyError } from './run.js'
export { hgrmFromEncoded, mergeEncoded, percentileCurve } from './histograms.js'
export { sessionsFromRecords, TraceClock, RateClock, RecordFeed } from './schedule.js'
export type * from './types.js'
export { replayFailure, DEFAULT_MAX_ERROR_SHARE } from './verdict.js'
