import { setTimeout as sleep } from 'node:timers/promises';

export interface ReadinessProbe {
  url: string;
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
}

/**
 * Polls an HTTP GET until it answers 2xx. Resolves with undefined when ready, or with the last
 * reason it was not (for the error a person reads) once the time is up.
 */
export async function waitUntilReady(probe: ReadinessProbe): Promise<string | undefined> {
  const deadline = Date.now() + probe.timeoutMs;
  let reason: string;
  for (;;) {
    probe.signal?.throwIfAborted();
    try {
      const response = await fetch(probe.url, {
        signal: AbortSignal.timeout(Math.max(200, Math.min(2000, probe.intervalMs * 4))),
      });
      await response.arrayBuffer();
      if (response.ok) return undefined;
      reason = `GET ${probe.url} answered ${response.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      reason = `GET ${probe.url} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
    }
    if (Date.now() + probe.intervalMs > deadline) return reason;
    await sleep(probe.intervalMs);
  }
}
