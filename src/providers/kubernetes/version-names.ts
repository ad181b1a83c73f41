import crypto from 'node:crypto';

/** Labels every object Tollgate makes for a version carries, so people and Tollgate can find it. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  version: 'app.kubernetes.io/version',
  managedBy: 'app.kubernetes.io/managed-by',
  release: 'tollgate.io/release',
} as const;

/** The exact version and release id, where label values cannot hold them (a "+" in a version, ":" in a release id). */
export const ANNOTATIONS = {
  version: 'tollgate.io/version',
  release: 'tollgate.io/release-id',
} as const;

export const MANAGED_BY = 'tollgate';

/**
 * The Deployment (and Service) of one version: <service>-<version>, made a DNS-1123 label
 * (lower case, dashes; a Service name may not hold dots). Too long, it keeps a hash of the whole.
 */
export function versionObjectName(service: string, version: string): string {
  const slug = version
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = `${service}-${slug}`;
  if (name.length <= 63) return name;
  const hash = crypto.createHash('sha256').update(version).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** A value a label may hold: letters, digits, ".", "_", "-", at most 63, alphanumeric at both ends. */
export function labelValue(value: string): string {
  let cleaned = value.replace(/[^A-Za-z0-9._-]/g, '_');
  if (cleaned.length > 63) {
    const hash = crypto.createHash('sha256').update(value).digest('hex').slice(0, 8);
    cleaned = `${cleaned.slice(0, 54)}-${hash}`;
  }
  return cleaned.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** The labels that select one version's pods: its Deployment's selector and its Service's. */
export function versionSelector(service: string, version: string): Record<string, string> {
  return { [LABELS.name]: service, [LABELS.version]: labelValue(version) };
}
