import path from 'node:path';
import { SpecCatalogue } from '../../src/specs/catalogue';

describe("the repository's spec catalogue", () => {
  const catalogue = new SpecCatalogue(path.join(__dirname, '..', '..', 'catalogue'));

  it('offers an example a first install can release from Slack, valid with the version /release gives', () => {
    expect(catalogue.entries()).toEqual([{ service: 'hello', environments: ['staging'] }]);
    const spec = catalogue.load('hello', 'staging', { version: '1.0.0' });
    expect(spec).toMatchObject({ service: 'hello', environment: 'staging', version: '1.0.0' });
    expect(spec.notify?.slack?.channel).toBe('#deploys');
  });
});
