/**
 * The forms a secret takes in a command's output besides its own text: base64 (standard and
 * URL-safe, with or without padding, and inside a longer base64 text such as an HTTP Basic header,
 * where it starts at any of three byte offsets) and URL encoding (as a path or query, upper- or
 * lower-case hex, spaces as + or %20). Longest first, so a form is replaced before a part of it.
 */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = [0, 1, 2].flatMap((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Only the characters made of the secret's bits alone: the first ones share bits with whatever
    // precedes it in a longer text, the last one with whatever follows.
    const inner = encoded.slice(Math.ceil((offset * 8) / 6), Math.floor(((offset + bytes.length) * 8) / 6));
    return offset === 0 ? [encoded, encoded.replace(/=+$/, ''), inner] : [inner];
  });
  const urlEncoded = encodeURIComponent(secret);
  const forms = [
    ...base64,
    ...base64.map((form) => form.replace(/\+/g, '-').replace(/\//g, '_')),
    urlEncoded,
    urlEncoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    urlEncoded.replace(/%20/g, '+'),
    encodeURI(secret),
  ];
  // A form of a few characters would redact ordinary text; the secret's own text is redacted anyway.
  return [...new Set(forms)].filter((form) => form.length >= MIN_FORM_LENGTH).sort((a, b) => b.length - a.length);
}

/** Shorter encoded forms match too much ordinary output to be worth hiding. */
const MIN_FORM_LENGTH = 6;
