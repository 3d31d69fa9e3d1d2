/**
 * Fault injection for crash tests (SECURITY.md section 4, G-15): the points of a workflow step at which a
 * test may have the process die. In production the port does nothing.
 */
export const FAULT_POINTS = [
  /** A run is saved and its first job is not yet enqueued. */
  'run-saved',
  /** A step's attempt is counted and committed, and the step has not begun. */
  'step-started',
  /** The step's work is done (its response received) and its result is not yet committed. */
  'step-finished',
  /** The step's result is committed and the next step is not yet enqueued. */
  'step-committed',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export type Faults = (point: FaultPoint) => void;

/** SWITCHBOARD_FAULT_AT: the point, and which time reaching it is fatal. */
export interface FaultSetting {
  point: FaultPoint;
  nth: number;
}

export const noFaults: Faults = () => undefined;
