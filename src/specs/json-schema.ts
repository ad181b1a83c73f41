import { z } from 'zod';
import { PipelineSpec } from '../domain/pipeline-spec';
import { ReleaseSpec } from '../domain/spec';

/** The JSON Schema editors use to check spec files as they are typed. */
export function releaseSpecJsonSchema(): unknown {
  return z.toJSONSchema(ReleaseSpec, { io: 'input', unrepresentable: 'any' });
}

/** The JSON Schema of pipeline files (schema/pipeline-spec.schema.json). */
export function pipelineSpecJsonSchema(): unknown {
  return z.toJSONSchema(PipelineSpec, { io: 'input', unrepresentable: 'any' });
}
