/** SWITCHBOARD_FAULT_AT=<point>:<n>: the process kills itself (SIGKILL) the nth time it reaches the point. */
import { noFaults, type FaultSetting, type Faults } from '../core/ports/faults.ts';

export function createFaults(setting: FaultSetting | undefined): Faults {
  if (!setting) return noFaults;
  let reached = 0;
  return (point) => {
    if (point === setting.point && ++reached === setting.nth) process.kill(process.pid, 'SIGKILL');
  };
}
