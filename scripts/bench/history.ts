/**
 * What one workflow history says about cost and time: the Temporal Cloud actions it bills and where its
 * time went, step by step. Works on the JSON form of a history (`historyToJSON`, as tests/histories/ keeps).
 */

interface Payload {
  metadata?: Record<string, string>;
  data?: string;
}
/** The slice of a JSON history event this module reads. */
export interface JsonEvent {
  eventId: string;
  eventTime: string;
  eventType: string;
  workflowTaskCompletedEventAttributes?: { scheduledEventId: string; startedEventId: string };
  workflowTaskStartedEventAttributes?: { scheduledEventId: string };
  activityTaskScheduledEventAttributes?: {
    activityType: { name: string };
    taskQueue: { name: string };
    input?: { payloads?: Payload[] };
  };
  activityTaskStartedEventAttributes?: { scheduledEventId: string; attempt?: number };
  activityTaskCompletedEventAttributes?: { scheduledEventId: string; startedEventId: string };
  upsertWorkflowSearchAttributesEventAttributes?: {
    searchAttributes?: { indexedFields?: Record<string, Payload> };
  };
  markerRecordedEventAttributes?: {
    markerName: string;
    details?: Record<string, { payloads?: Payload[] }>;
    workflowTaskCompletedEventId?: string;
  };
}
export interface JsonHistory {
  events: JsonEvent[];
}

/**
 * Temporal Cloud's billable actions, by kind: the workflow start, each activity start and each retry, each
 * search-attribute or memo upsert, each signal, accepted update and timer, each child workflow and external
 * signal, and the local activities of one workflow task once together (as Temporal Cloud bills them).
 * The markers of `patched()` are not counted; the TemporalChangeVersion upsert the SDK adds for each patch
 * id a run evaluates is, as an upsert of its own.
 */
export interface ActionCount {
  total: number;
  byKind: Record<string, number>;
}

export const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const PATCH_SEARCH_ATTRIBUTE = 'TemporalChangeVersion';

const decode = (p: Payload | undefined): unknown => {
  if (!p?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
};

/** b − a in milliseconds, to a tenth (Date.parse keeps milliseconds only; event times have nanoseconds). */
function preciseMs(a: string, b: string): number {
  const frac = (t: string) => Number(`0.${/\.(\d+)Z$/.exec(t)?.[1] ?? '0'}`);
  const whole = (t: string) => Math.floor(Date.parse(t) / 1000);
  return Math.round(((whole(b) - whole(a)) * 1000 + (frac(b) - frac(a)) * 1000) * 10) / 10;
}

export function billableActions(history: JsonHistory): ActionCount {
  const byKind: Record<string, number> = {};
  const add = (kind: string, n = 1) => {
    byKind[kind] = (byKind[kind] ?? 0) + n;
  };
  const localTasks = new Set<string>();
  let lastCompletedTask = '0';
  for (const e of history.events) {
    switch (e.eventType) {
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED':
        add('workflow start');
        break;
      case 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED':
        lastCompletedTask = e.eventId;
        break;
      case 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED':
        add('activity start');
        break;
      case 'EVENT_TYPE_ACTIVITY_TASK_STARTED': {
        const retries = (e.activityTaskStartedEventAttributes?.attempt ?? 1) - 1;
        if (retries > 0) add('activity retry', retries);
        break;
      }
      case 'EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        // The SDK upserts TemporalChangeVersion itself the first time a run evaluates each patched() id.
        const keys = Object.keys(
          e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        add(
          keys.length === 1 && keys[0] === PATCH_SEARCH_ATTRIBUTE
            ? 'search attribute upsert (patched())'
            : 'search attribute upsert',
        );
        break;
      }
      case 'EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED':
        add('memo upsert');
        break;
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED':
        add('signal');
        break;
      case 'EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED':
        add('update');
        break;
      case 'EVENT_TYPE_TIMER_STARTED':
        add('timer');
        break;
      case 'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED':
        add('child workflow');
        break;
      case 'EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED':
        add('external signal');
        break;
      case 'EVENT_TYPE_MARKER_RECORDED': {
        const marker = e.markerRecordedEventAttributes;
        if (marker?.markerName === LOCAL_ACTIVITY_MARKER)
          localTasks.add(marker.workflowTaskCompletedEventId ?? lastCompletedTask);
        break;
      }
    }
  }
  if (localTasks.size > 0) add('local activities (one per workflow task)', localTasks.size);
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

export interface StepTime {
  /** The activity type, with the step an order-row write records (`updateOrder RESERVE_INVENTORY:COMPLETED`). */
  step: string;
  kind: 'activity' | 'local activity';
  taskQueue: string | null;
  /** Scheduled → started (waiting in the task queue for a worker); 0 for a local activity. */
  scheduleToStartMs: number;
  /**
   * Started → completed (the worker's work, its round trips to the server included). A local activity's
   * comes from the worker's own clock readings in its marker; null when those are out of order.
   */
  executionMs: number | null;
  attempts: number;
}

export interface Timeline {
  /** Workflow started → closed. */
  totalMs: number;
  steps: StepTime[];
  workflowTasks: { count: number; scheduleToStartMs: number; executionMs: number };
  historyLength: number;
}

function stepName(type: string, input: unknown): string {
  const step = (input as { step?: { name?: string; status?: string } } | undefined)?.step;
  const status = (input as { status?: string } | undefined)?.status;
  if (step?.name) return `${type} ${step.name}:${step.status}`;
  return status ? `${type} ${status}` : type;
}

/** Where the time of one workflow went: each activity's queue wait and execution, and the workflow tasks'. */
export function timeline(history: JsonHistory): Timeline {
  const events = history.events;
  const byId = new Map(events.map((e) => [e.eventId, e]));
  const steps: StepTime[] = [];
  const wft = { count: 0, scheduleToStartMs: 0, executionMs: 0 };
  for (const e of events) {
    const done = e.activityTaskCompletedEventAttributes;
    if (done) {
      const scheduled = byId.get(done.scheduledEventId)!;
      const started = byId.get(done.startedEventId)!;
      const attrs = scheduled.activityTaskScheduledEventAttributes!;
      steps.push({
        step: stepName(attrs.activityType.name, decode(attrs.input?.payloads?.[0])),
        kind: 'activity',
        taskQueue: attrs.taskQueue.name,
        scheduleToStartMs: preciseMs(scheduled.eventTime, started.eventTime),
        executionMs: preciseMs(started.eventTime, e.eventTime),
        attempts: started.activityTaskStartedEventAttributes?.attempt ?? 1,
      });
    }
    const task = e.workflowTaskCompletedEventAttributes;
    if (task) {
      const scheduled = byId.get(task.scheduledEventId)!;
      const started = byId.get(task.startedEventId)!;
      wft.count++;
      wft.scheduleToStartMs += preciseMs(scheduled.eventTime, started.eventTime);
      wft.executionMs += preciseMs(started.eventTime, e.eventTime);
    }
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
      const data = decode(marker.details?.data?.payloads?.[0]) as
        | {
            activity_type?: string;
            attempt?: number;
            complete_time?: unknown;
            original_schedule_time?: unknown;
          }
        | undefined;
      const duration = localDuration(data?.original_schedule_time, data?.complete_time);
      steps.push({
        step: data?.activity_type ?? 'local activity',
        kind: 'local activity',
        taskQueue: null,
        scheduleToStartMs: 0,
        executionMs: duration,
        attempts: data?.attempt ?? 1,
      });
    }
  }
  wft.scheduleToStartMs = Math.round(wft.scheduleToStartMs * 10) / 10;
  wft.executionMs = Math.round(wft.executionMs * 10) / 10;
  return {
    totalMs: preciseMs(events[0]!.eventTime, events.at(-1)!.eventTime),
    steps,
    workflowTasks: wft,
    historyLength: events.length,
  };
}

/** A local activity's marker carries protobuf timestamps ({seconds, nanos}) of its schedule and completion. */
function localDuration(from: unknown, to: unknown): number | null {
  const t = (v: unknown) => {
    const { seconds, nanos } = (v ?? {}) as { seconds?: number | string; nanos?: number };
    return seconds === undefined ? NaN : Number(seconds) * 1000 + (nanos ?? 0) / 1e6;
  };
  const d = t(to) - t(from);
  return Number.isFinite(d) && d >= 0 ? Math.round(d * 10) / 10 : null;
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};
const medianOrNull = (values: (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length === 0 ? null : median(known);
};

/** The median of each step across histories of the same shape (the same steps in the same order). */
export function medianTimeline(timelines: Timeline[]): Timeline {
  const first = timelines[0]!;
  const same = timelines.filter(
    (t) => t.steps.length === first.steps.length && t.steps.every((s, i) => s.step === first.steps[i]!.step),
  );
  return {
    totalMs: median(same.map((t) => t.totalMs)),
    historyLength: first.historyLength,
    workflowTasks: {
      count: first.workflowTasks.count,
      scheduleToStartMs: median(same.map((t) => t.workflowTasks.scheduleToStartMs)),
      executionMs: median(same.map((t) => t.workflowTasks.executionMs)),
    },
    steps: first.steps.map((s, i) => ({
      ...s,
      scheduleToStartMs: median(same.map((t) => t.steps[i]!.scheduleToStartMs)),
      executionMs: medianOrNull(same.map((t) => t.steps[i]!.executionMs)),
    })),
  };
}
