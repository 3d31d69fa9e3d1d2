/**
 * SWITCHBOARD_FAULT_AT=<point>:<n>[:stop]: the nth time the process reaches the point it kills itself
 * (SIGKILL), or with `stop` pauses itself (SIGSTOP) right there, to go on where it was at SIGCONT.
 */
import { noFaults, type FaultSetting, type Faults } from '../core/ports/faults.ts';

export function createFaults(setting: FaultSetting | undefined): Faults {
  if (!setting) return noFaults;
  let reached = 0;
  return (point) => {
    if (point === setting.point && ++reached === setting.nth)
      process.kill(process.pid, setting.action === 'stop' ? 'SIGSTOP' : 'SIGKILL');
  };
}
