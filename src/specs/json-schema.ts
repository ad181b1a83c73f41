import { z } from 'zod';
import { ReleaseSpec } from '../domain/spec';

/** The JSON Schema editors use to check spec files as they are typed. */
export function releaseSpecJsonSchema(): unknown {
  return z.toJSONSchema(ReleaseSpec, { io: 'input', unrepresentable: 'any' });
}
