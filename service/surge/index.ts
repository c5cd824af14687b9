// The SURGE workload library: generator, SURGE's files, user equivalents, file-set materialiser.
export {
  generateSurge,
  resolveSurgeParams,
  zipfCounts,
  sizeMixOf,
  DEFAULT_SURGE_PARAMS,
  SURGE_PRESETS,
  type SurgeParams,
  type SurgeWorkload,
} from './generate.js'
export { readSurgeFiles, readMout, readObjout, writeSurgeFiles, surgeUrl, type SurgeFile, type SurgeFiles, type FileGroup } from './files.js'
export { createSurgeUsers, surgeTraceRecords, SurgeUser, SurgeSequenceCursor, type SurgeVisit } from './users.js'
export { materialize, scaledSize, type MaterializeOptions } from './materialize.js'
export { writeWorkloadDir, readWorkloadSummary, loadWorkload, readFileSet, summarize, type WorkloadSummary, TRACE_FILE, WORKLOAD_JSON } from './directory.js'
export { Random } from './random.js'
export * as distributions from './distributions.js'
