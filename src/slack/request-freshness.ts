import type http from 'node:http';

/** How far a Slack request's timestamp may be from the server's clock, either way (Slack's own advice). */
export const MAX_REQUEST_SKEW_SECONDS = 5 * 60;

/**
 * Refuses Slack requests whose timestamp is more than five minutes from now, in the past or in the
 * future. Bolt's check refuses only old ones, so a request signed with a timestamp in the future
 * (by someone who once had the signing secret, or captured with a skewed clock) could be replayed
 * for as long as that future lasts. Everything else, the signature included, is Bolt's to check.
 */
export function refuseStaleOrFutureRequests(
  listener: http.RequestListener,
  now: () => number = Date.now,
): http.RequestListener {
  return (req, res) => {
    const header = req.headers['x-slack-request-timestamp'];
    const timestamp = Number(Array.isArray(header) ? header[0] : header);
    if (
      header !== undefined &&
      (!Number.isFinite(timestamp) || Math.abs(now() / 1000 - timestamp) > MAX_REQUEST_SKEW_SECONDS)
    ) {
      res
        .writeHead(401, { 'Content-Type': 'text/plain' })
        .end('x-slack-request-timestamp is more than 5 minutes from now');
      return;
    }
    listener(req, res);
  };
}
