import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpecError } from '../../src/domain/errors';
import { MAX_SPEC_BYTES, parseReleaseSpec } from '../../src/domain/parse-spec';
import { findLiteralSecrets } from '../../src/domain/secrets';
import { loadSpecFile } from '../../src/specs/load-spec-file';

const MEGABYTE = 1024 * 1024;

function specErrorOf(action: () => unknown): SpecError {
  try {
    action();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  throw new Error('the spec was accepted');
}

describe('a spec written to hurt', () => {
  // Each of these took minutes or more with a scheme-first URL pattern (quadratic in a word's
  // length); they must simply finish. No timing is asserted: the test's own timeout is the bound.
  it.each([
    ['one long word', 'a'.repeat(MEGABYTE)],
    ['a scheme, then a long word', `a://${'b'.repeat(MEGABYTE)}`],
    ['a user, then a long password with no host', `a://b:${'c'.repeat(MEGABYTE)}`],
    ['many colons', 'a:'.repeat(MEGABYTE / 2)],
    ['many almost-URLs', 'a:/'.repeat(MEGABYTE / 3)],
    ['a long private-key header', `-----BEGIN ${'A '.repeat(MEGABYTE / 2)}`],
    ['a bearer with long whitespace', `Bearer${' '.repeat(MEGABYTE)}!`],
  ])('checks a 1 MB value for credentials to the end: %s', (_name, value) => {
    expect(findLiteralSecrets(value)).toEqual([]);
  });

  it('still finds a credential at the end of 1 MB, and a URL whose scheme starts with a digit run', () => {
    expect(findLiteralSecrets(`${'a'.repeat(MEGABYTE)} postgres://app:hunter2@db/app`)).toHaveLength(1);
    expect(findLiteralSecrets('9git+https://me:pw@example.com/x')).toHaveLength(1);
    expect(findLiteralSecrets('https://example.com/a:b@c')).toEqual([]);
  });

  it('refuses a spec over the size limit, naming the file and the limit', () => {
    const text = `service: checkout\n# ${'x'.repeat(MAX_SPEC_BYTES)}\n`;
    const error = specErrorOf(() => parseReleaseSpec(text, 'big.yaml'));
    expect(error.message).toContain('big.yaml');
    expect(error.problems).toEqual([
      expect.objectContaining({ message: expect.stringMatching(/^the file is 257 KiB; specs are limited to 256 KiB/) }),
    ]);
  });

  it('refuses a spec file over the size limit before reading it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-big-spec-'));
    const file = path.join(dir, 'release.yaml');
    try {
      fs.writeFileSync(file, `service: checkout\n# ${'x'.repeat(4 * MEGABYTE)}\n`);
      const error = specErrorOf(() => loadSpecFile(file));
      expect(error.message).toContain(file);
      expect(error.message).toContain('specs are limited to 256 KiB');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a YAML alias bomb as a problem of the file, not as a bug', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const name of ['b', 'c', 'd', 'e', 'f', 'g']) {
      const previous = String.fromCharCode(name.charCodeAt(0) - 1);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]`);
    }
    const error = specErrorOf(() => parseReleaseSpec(`${levels.join('\n')}\n`, 'bomb.yaml'));
    expect(error.message).toContain('bomb.yaml is not a valid release spec');
    expect(error.problems).toEqual([
      expect.objectContaining({ message: expect.stringContaining('a spec may use at most 100') }),
    ]);
  });
});
