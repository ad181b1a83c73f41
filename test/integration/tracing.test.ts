import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { migrateToLatest } from '../../src/audit/database';
import { releaseTraceId } from '../../src/telemetry/activity-tracing';
import { RELEASE_ID_ATTRIBUTE, setUpTracing, type Tracing } from '../../src/telemetry/tracing';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { execSpec, Journal } from '../support/exec-spec';
import { startTestWorker, type TestWorker } from '../support/worker';
import { required } from '../../src/domain/required';

let database: TestDatabase;
let tollgate: TestWorker;
let journal: Journal;
let tracing: Tracing;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  database = await createTestDatabase();
  await migrateToLatest(database.db);
  tracing = required(setUpTracing({ serviceName: 'tollgate-worker', exporter }), 'tracing');
  tollgate = await startTestWorker({ db: database.db, taskQueue: `tracing-${Date.now()}`, tracing });
  journal = new Journal();
});

afterAll(async () => {
  await tollgate?.stop();
  await tracing?.shutdown();
  await database?.drop();
  journal?.remove();
});

describe('traces of a release', () => {
  it('put every activity of a release in one trace, each span naming the release', async () => {
    const spec = execSpec(journal, {
      service: 'traced',
      steps: [{ setWeight: 20 }, { setWeight: 100 }],
      setWeight: `[ "$TOLLGATE_WEIGHT" != 20 ] || [ -f ${journal.dir}/tried ] || { touch ${journal.dir}/tried; exit 1; }; ${journal.append('setWeight $TOLLGATE_WEIGHT')}`,
    });
    const { releaseId } = await tollgate.releases.start(spec, { id: 'alice', via: 'cli' });
    expect(await tollgate.releases.result(releaseId)).toMatchObject({ outcome: 'Succeeded' });

    const spans = exporter.getFinishedSpans().filter((span) => span.attributes[RELEASE_ID_ATTRIBUTE] === releaseId);
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([releaseTraceId(releaseId)]));
    const names = spans.map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['joinLane', 'deploy', 'setWeight', 'recordAudit']));
    // The failed first attempt is in the trace too, marked as an error.
    const failed = spans.filter((span) => span.name === 'setWeight' && span.status.code === SpanStatusCode.ERROR);
    expect(failed).toHaveLength(1);
    expect(failed[0].attributes['tollgate.attempt']).toBe(1);
  });
});
