/**
 * Analysis vocabulary, after Argo Rollouts: each run takes measurements; each measurement is
 * Successful, Failed, Inconclusive (no usable value: empty or NaN) or Error (the measurement itself
 * could not be taken). The verdict follows from the counts and the template's limits.
 */
export type MeasurementPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';
export type AnalysisVerdict = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface Measurement {
  at: string;
  phase: MeasurementPhase;
  /** The measured value, when there is one. */
  value?: number | string;
  /** What was measured and why it counts as its phase: the query, the command, the evidence. */
  message: string;
}

export interface AnalysisLimits {
  failureLimit: number;
  inconclusiveLimit: number;
  /** Errors in a row that end the run; the default is Argo's. */
  consecutiveErrorLimit?: number;
}

export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;

export interface TemplateResult {
  template: string;
  provider: string;
  verdict: AnalysisVerdict;
  measurements: Measurement[];
  summary: string;
}

export interface AnalysisResult {
  stepLabel: string;
  verdict: AnalysisVerdict;
  templates: TemplateResult[];
  at: string;
}

/**
 * The verdict of a run so far. A run with no successful measurement is never Successful: a metric
 * source that errored every time has proven nothing.
 */
export function judgeMeasurements(measurements: Measurement[], limits: AnalysisLimits): AnalysisVerdict {
  const count = (phase: MeasurementPhase) => measurements.filter((m) => m.phase === phase).length;
  if (count('Failed') > limits.failureLimit) return 'Failed';
  if (count('Inconclusive') > limits.inconclusiveLimit) return 'Inconclusive';
  let errorsInRow = 0;
  for (const measurement of measurements) errorsInRow = measurement.phase === 'Error' ? errorsInRow + 1 : 0;
  if (errorsInRow >= (limits.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT)) return 'Error';
  if (count('Successful') === 0) return measurements.length === 0 || count('Error') > 0 ? 'Error' : 'Inconclusive';
  return 'Successful';
}

/**
 * Can the run stop early? Only when a limit is already exceeded: more failures, more inconclusive
 * readings or more errors in a row than allowed. (That nothing has succeeded *yet* decides nothing.)
 */
export function isDecided(measurements: Measurement[], limits: AnalysisLimits): boolean {
  const count = (phase: MeasurementPhase) => measurements.filter((m) => m.phase === phase).length;
  let errorsInRow = 0;
  for (const measurement of measurements) errorsInRow = measurement.phase === 'Error' ? errorsInRow + 1 : 0;
  return (
    count('Failed') > limits.failureLimit ||
    count('Inconclusive') > limits.inconclusiveLimit ||
    errorsInRow >= (limits.consecutiveErrorLimit ?? DEFAULT_CONSECUTIVE_ERROR_LIMIT)
  );
}

/** The worst of several templates' verdicts decides the step. */
export function combineVerdicts(verdicts: AnalysisVerdict[]): AnalysisVerdict {
  for (const verdict of ['Failed', 'Error', 'Inconclusive'] as const) if (verdicts.includes(verdict)) return verdict;
  return 'Successful';
}
