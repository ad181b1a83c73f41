import { redact } from '../../src/providers/exec/run-command';

const SECRET = 's3cr3t~~~???/@';

describe("redacting a command's output", () => {
  it('hides the secret as written', () => {
    expect(redact(`connecting with ${SECRET} now`, [SECRET])).toBe('connecting with [redacted] now');
  });

  it('hides it in base64, standard and URL-safe, with or without padding', () => {
    const standard = Buffer.from(SECRET).toString('base64');
    const urlSafe = Buffer.from(SECRET).toString('base64url');
    expect(standard).toMatch(/[+/]/); // the two alphabets differ for this secret
    const output = `token=${standard}\ntoken=${urlSafe}\ntoken=${standard.replace(/=+$/, '')}`;
    const redacted = redact(output, [SECRET]);
    expect(redacted).not.toContain(standard.replace(/=+$/, ''));
    expect(redacted).not.toContain(urlSafe);
    expect(redacted.split('\n').every((line) => line.startsWith('token=[redacted]'))).toBe(true);
  });

  it('hides it inside a longer base64 text, wherever it starts (an HTTP Basic header)', () => {
    for (const user of ['al', 'bob', 'carol']) {
      const header = `Authorization: Basic ${Buffer.from(`${user}:${SECRET}`).toString('base64')}`;
      const redacted = redact(header, [SECRET]);
      expect(redacted).toContain('[redacted]');
      // What is left cannot be decoded back into the secret.
      expect(Buffer.from(redacted.split(' ').pop() ?? '', 'base64').toString()).not.toContain(SECRET.slice(0, 6));
    }
  });

  it('hides it URL-encoded, in either hex case, and with + for spaces', () => {
    const spaced = 'correct horse battery staple';
    const output = [
      `GET /login?password=${encodeURIComponent(SECRET)}`,
      `GET /login?password=${encodeURIComponent(SECRET).toLowerCase()}`,
      `POST body: pw=${new URLSearchParams({ pw: spaced }).toString().slice(3)}`,
    ].join('\n');
    const redacted = redact(output, [SECRET, spaced]);
    expect(redacted).toBe(
      ['GET /login?password=[redacted]', 'GET /login?password=[redacted]', 'POST body: pw=[redacted]'].join('\n'),
    );
  });

  it('leaves ordinary output alone', () => {
    expect(redact('deployed 2.4.0 in 3s', [SECRET])).toBe('deployed 2.4.0 in 3s');
  });
});
