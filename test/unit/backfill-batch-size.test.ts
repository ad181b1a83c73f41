import { MAX_BATCH_ROWS, nextBatchSize } from '../../src/service-db/backfill';

describe('the backfill batch size', () => {
  it('grows a batch that finished faster than the target, at most quadrupling it', () => {
    expect(nextBatchSize(1000, 50, 100)).toBe(2000);
    expect(nextBatchSize(1000, 10, 100)).toBe(4000);
    expect(nextBatchSize(1000, 0, 100)).toBe(4000);
    expect(nextBatchSize(1000, 80, 100)).toBe(1250);
  });

  it('shrinks a batch that took longer than the target, at most halving it', () => {
    expect(nextBatchSize(1000, 200, 100)).toBe(500);
    expect(nextBatchSize(1000, 5000, 100)).toBe(500);
    expect(nextBatchSize(1000, 125, 100)).toBe(800);
  });

  it('keeps a batch that took the target time', () => {
    expect(nextBatchSize(4321, 100, 100)).toBe(4321);
  });

  it('never shrinks below the declared size', () => {
    expect(nextBatchSize(1000, 5000, 100, 1000)).toBe(1000);
    expect(nextBatchSize(4000, 5000, 100, 1000)).toBe(2000);
  });

  it('stays between one row and the ceiling', () => {
    expect(nextBatchSize(1, 1000, 100)).toBe(1);
    expect(nextBatchSize(MAX_BATCH_ROWS, 1, 100)).toBe(MAX_BATCH_ROWS);
  });
});
