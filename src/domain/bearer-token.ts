/**
 * The token of an `Authorization: Bearer <token>` header, or undefined. The scheme is matched
 * without regard to case (RFC 7235 §2.1: `bearer` and `BEARER` are the same scheme), and the
 * token must be one word (RFC 6750's token68 has no spaces).
 */
export function bearerToken(header: string | undefined): string | undefined {
  return /^bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}
