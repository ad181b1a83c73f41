import type { SpecProblem } from './errors';

/**
 * Shapes of credentials that must never be written into a spec: a spec travels into workflow
 * history, audit rows and Slack messages. A spec names the worker's variable instead (env:NAME).
 */
const SECRET_SHAPES: { name: string; pattern: RegExp }[] = [
  // Anchored on the ":" of "://", the scheme checked behind it: a pattern that starts with the scheme
  // lets every letter of a long word start a scan to the end of the word, quadratic in its length
  // (40 k characters took seconds, 1 MB minutes). Here only a ":" starts a look, and each look covers
  // a stretch no other shares. Every other shape starts at a fixed prefix and stays linear.
  { name: 'a URL with a password', pattern: /:(?<=[a-z][a-z0-9+.-]*:)\/\/[^/\s:@]+:[^/\s@]+@/i },
  { name: 'a Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: 'a GitHub token', pattern: /\b(ghp|gho|ghu|ghs|github_pat)_[A-Za-z0-9_]{20,}/ },
  { name: 'an AWS access key', pattern: /\bAKIA[0-9A-Z]{16}\b/ },
  { name: 'a private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----/ },
  { name: 'a bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}/ },
];

export function findLiteralSecrets(value: unknown, path: string[] = []): SpecProblem[] {
  if (typeof value === 'string') {
    const shape = SECRET_SHAPES.find(({ pattern }) => pattern.test(value));
    return shape
      ? [
          {
            path: path.join('.'),
            message: `looks like ${shape.name}; specs end up in workflow history and audit logs, so put the secret in the worker's environment and write env:NAME here`,
          },
        ]
      : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findLiteralSecrets(item, [...path, String(index)]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => findLiteralSecrets(item, [...path, key]));
  }
  return [];
}
