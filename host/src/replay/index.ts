export {
  ReplayJobs,
  ReplayRequestError,
  isReplayRequestError,
  type ReplayTarget,
  type ReplayTargets,
  type ReplayUnavailable,
  type ReplayView,
} from './replay-jobs.js';
export { ReplayStore, type ReplayRecord, type ReplayState } from './replay-store.js';
export { parseReplayPoint, describePoint } from './replay-point.js';
export { replayRoutes } from './routes.js';
