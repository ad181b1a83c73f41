import crypto from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Actor } from '../domain/spec';
import { IdentityRefused } from './claims';
import type { DecisionKind } from '../domain/decision';
import { describeJoseError } from './oidc-keys';

/** The issuer and audience of the app's assertions: only Tollgate's worker accepts them. */
export const ASSERTION_ISSUER = 'urn:tollgate:app';
const ASSERTION_AUDIENCE = 'urn:tollgate:worker';
/** An assertion is made for one decision and used at once. */
const ASSERTION_LIFETIME = '5m';

interface AssertedDecision {
  kind: DecisionKind;
  target: string;
}

/**
 * What Tollgate's app (Slack, the HTTP API) signs after it established who a person is: that
 * person, and the one decision on the one workflow they asked for. The worker checks the signature
 * with the same key (TOLLGATE_ASSERTION_KEY), so a client without the key cannot make one.
 */
export async function signAssertion(key: string, actor: Actor, decision: AssertedDecision): Promise<string> {
  return new SignJWT({ actor, decision })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ASSERTION_ISSUER)
    .setAudience(ASSERTION_AUDIENCE)
    .setSubject(actor.id)
    .setIssuedAt()
    .setExpirationTime(ASSERTION_LIFETIME)
    .sign(secretKey(key));
}

/** The person an assertion names, if it is the app's and made for this decision. */
export async function verifyAssertion(key: string, token: string, decision: AssertedDecision): Promise<Actor> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, secretKey(key), {
      issuer: ASSERTION_ISSUER,
      audience: ASSERTION_AUDIENCE,
      algorithms: ['HS256'],
    }));
  } catch (err) {
    throw new IdentityRefused(`Tollgate's app assertion does not hold: ${describeJoseError(err, "Tollgate's app")}`);
  }
  const asserted = payload.decision as Partial<AssertedDecision> | undefined;
  if (asserted?.kind !== decision.kind || asserted.target !== decision.target)
    throw new IdentityRefused(
      `the assertion was made for ${asserted?.kind ?? 'another decision'} on ${asserted?.target ?? 'another workflow'}, not ${decision.kind} on ${decision.target}`,
    );
  return payload.actor as Actor;
}

/** A KeyObject rather than bytes: it is the same kind of object in every realm (Jest's too). */
function secretKey(key: string): crypto.KeyObject {
  return crypto.createSecretKey(Buffer.from(key, 'utf8'));
}
