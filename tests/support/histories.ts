/**
 * Where a recorded history is written: `<name>.json`, or with ORDERSAGA_RECORD_HISTORIES=<tag> (anything but
 * 1) `<name>.<tag>.json`, so that histories recorded after a change of the workflow's commands sit beside the
 * older ones, never over them (replay.test.ts replays them all).
 */
export function historyFileName(name: string): string {
  const tag = process.env.ORDERSAGA_RECORD_HISTORIES;
  return tag && tag !== '1' ? `${name}.${tag}.json` : `${name}.json`;
}
