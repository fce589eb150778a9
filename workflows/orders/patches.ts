/**
 * The saga's patches, each at a stage of its lifecycle. Worker Versioning pins an order to the build that
 * started it, so a change to the saga ships as a new build, not a patch; a patch is only for what
 * versioning cannot cover: runs that started before versioning (unversioned, they move to the current
 * build) and are still open. The lifecycle of each id:
 *
 * 1. `patched(id)`: new runs take the new path; runs without the marker keep the old one.
 * 2. `deprecatePatch(id)` once no open run lacks the marker (the old path is deleted; the marker stays).
 * 3. Delete the call once no open run has a non-deprecated marker for it.
 *
 * Whether an id can move on is asked of Temporal's visibility, not guessed: `npm run patches` counts the
 * open orderSaga runs that still need each stage (the SDK records every evaluated id in the
 * TemporalChangeVersion search attribute). tests/workflows/patches.test.ts keeps this list, the code and
 * the README's count in agreement.
 */
export const PATCHES = {
  /** The order-row writes as local activities. Deprecated: every open run has its marker. */
  localOrderWrites: { id: 'local-order-writes', stage: 'deprecated' },
  /** Compensations retried on a timer after COMPENSATION_FAILED; runs parked before it wait for a signal. */
  compensationRetryTimer: { id: 'compensation-retry-timer', stage: 'patched' },
} as const;

/** Ids retired (stage 3), with the check that allowed it: kept so that a reused id is caught. */
export const RETIRED_PATCHES = [
  'operator-summaries',
  'updates-answer-after-decision',
  'pivot-at-capture',
  'cancel-wins-over-failure',
  'decision-leaves-awaiting-approval',
  'retry-after-failure-only',
  'workflow-cancel-decided-by',
] as const;
