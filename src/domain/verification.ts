/** What post-deploy verification found: one line per smoke check, in the order the spec lists them. */
export interface CheckResult {
  name: string;
  kind: 'http' | 'exec';
  passed: boolean;
  /** How many times the check ran before it passed or gave up. */
  attempts: number;
  /** What the last attempt saw: the status and body excerpt, or the command's exit and output. */
  message: string;
  at: string;
}

export interface VerificationResult {
  passed: boolean;
  checks: CheckResult[];
  /** The first check that failed, for the outcome's reason and the pipeline's gate. */
  failedCheck?: string;
}

/** The reason a release gives when a smoke check failed: it names the check and what it saw. */
export function verificationFailure(result: VerificationResult): string {
  const failed = result.checks.find((check) => !check.passed);
  return failed
    ? `smoke check "${failed.name}" failed after ${failed.attempts} attempt${failed.attempts === 1 ? '' : 's'}: ${failed.message}`
    : 'verification failed';
}
