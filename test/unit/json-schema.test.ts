import fs from 'node:fs';
import path from 'node:path';
import { pipelineSpecJsonSchema, releaseSpecJsonSchema } from '../../src/specs/json-schema';

describe('the published JSON Schema', () => {
  it('matches the zod schema it is generated from (run `npm run schema` after changing the spec)', () => {
    const committed = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', 'schema', 'release-spec.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(releaseSpecJsonSchema());
  });

  it('of pipeline files matches its zod schema too (`tollgate schema --pipeline`)', () => {
    const committed = JSON.parse(
      fs.readFileSync(path.join(__dirname, '..', '..', 'schema', 'pipeline-spec.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(pipelineSpecJsonSchema());
  });

  it('tells editors the steps and the providers there are', () => {
    const text = JSON.stringify(releaseSpecJsonSchema());
    for (const word of ['setWeight', 'pause', 'approval', 'analysis', 'blueGreen', 'rolling', 'exec'])
      expect(text).toContain(word);
  });
});
