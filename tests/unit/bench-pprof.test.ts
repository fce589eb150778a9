/**
 * The server profile's areas (scripts/bench/pprof.ts): every sample counted once, in the first area one of
 * its frames matches, whatever its labels and units; per workflow and the ratio from the same figures.
 */
import { describe, expect, it } from 'vitest';
import { areasOfTraces, OTHER_AREA, SERVER_AREAS } from '../../scripts/bench/pprof.js';

const SEP = '-----------+-------------------------------------------------------';
const sample = (value: string, frames: string[], labels: string[] = []) =>
  [
    SEP,
    ...labels,
    `${value.padStart(10)}   ${frames[0]}`,
    ...frames.slice(1).map((f) => `${''.padStart(10)}   ${f}`),
  ].join('\n');

const traces = [
  'File: temporal-server',
  'Type: cpu',
  'Duration: 10s, Total samples = 1.23s (12.30%)',
  sample('20ms', [
    'database/sql.(*DB).conn',
    'go.temporal.io/server/common/persistence/visibility/store/sql.(*VisibilityStore).UpsertWorkflowExecution',
    'go.temporal.io/server/service/history.(*visibilityQueueTaskExecutor).Execute',
  ]),
  sample('1.20s', [
    'github.com/jackc/pgx/v5.(*Conn).Exec',
    'go.temporal.io/server/common/persistence/sql.(*sqlExecutionStore).UpdateWorkflowExecution',
    'go.temporal.io/server/service/history.(*historyEngineImpl).RespondWorkflowTaskCompleted',
  ]),
  sample(
    '500us',
    ['go.temporal.io/server/service/matching.(*taskQueuePartitionManager).PollTask'],
    ['   bytes:  1024'],
  ),
  sample('10ms', ['runtime.scanobject', 'runtime.gcBgMarkWorker']),
  sample('30ms', ['main.somethingElse']),
  SEP,
].join('\n');

describe('server profile areas', () => {
  it('puts each sample in the first area one of its frames matches, in ms', () => {
    const areas = areasOfTraces(traces);
    expect(areas).toEqual({
      [SERVER_AREAS[0]![0]]: 20,
      [SERVER_AREAS[1]![0]]: 1200,
      [SERVER_AREAS[2]![0]]: 0.5,
      [SERVER_AREAS[6]![0]]: 10,
      [OTHER_AREA]: 30,
    });
  });

  it('loses no sample: the areas add up to the samples', () => {
    const total = Object.values(areasOfTraces(traces)).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(20 + 1200 + 0.5 + 10 + 30, 6);
  });
});
