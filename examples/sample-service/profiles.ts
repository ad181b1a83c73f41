import fs from 'node:fs';
import path from 'node:path';

/** How a version of the sample service behaves: chosen by configuration, never by code changes. */
export interface Profile {
  /** Each request takes between these many milliseconds. */
  latencyMs: [number, number];
  /** Share of requests answered 500. */
  errorRate: number;
  /** false: /healthz never answers 200, so the version never becomes ready. */
  ready: boolean;
}

export const PROFILES: Record<string, Profile> = {
  healthy: { latencyMs: [2, 8], errorRate: 0, ready: true },
  /** Still fast enough for any threshold (well under 100 ms), but ten times slower than healthy. */
  slow: { latencyMs: [40, 70], errorRate: 0, ready: true },
  faulty: { latencyMs: [2, 8], errorRate: 0.3, ready: true },
  'never-ready': { latencyMs: [2, 8], errorRate: 0, ready: false },
};

/**
 * The profile of a version: SAMPLE_PROFILE wins; otherwise versions.json beside this file maps
 * versions to profiles (1.0.0 and 2.0.0 healthy, 2.1.0 slow, 3.0.0 faulty); healthy otherwise.
 */
export function profileFor(version: string, env: NodeJS.ProcessEnv = process.env): { name: string; profile: Profile } {
  const versions = JSON.parse(fs.readFileSync(path.join(__dirname, 'versions.json'), 'utf8')) as Record<string, string>;
  const name = env.SAMPLE_PROFILE ?? versions[version] ?? 'healthy';
  const profile = PROFILES[name];
  if (!profile)
    throw new Error(`SAMPLE_PROFILE=${name} is not a profile; choose one of ${Object.keys(PROFILES).join(', ')}`);
  return {
    name,
    profile: {
      ...profile,
      errorRate: env.SAMPLE_ERROR_RATE !== undefined ? Number(env.SAMPLE_ERROR_RATE) : profile.errorRate,
    },
  };
}
