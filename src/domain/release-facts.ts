/** The facts about a release that every step's provider needs (they become TOLLGATE_* variables). */
export interface ReleaseFacts {
  releaseId: string;
  service: string;
  environment: string;
  version: string;
  stableVersion?: string;
  commitSha?: string;
  initiator: string;
  attempt: number;
}
