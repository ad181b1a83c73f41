import {
  combineVerdicts,
  isDecided,
  judgeMeasurements,
  type Measurement,
  type MeasurementPhase,
} from '../../src/domain/analysis';

const measured = (...phases: MeasurementPhase[]): Measurement[] =>
  phases.map((phase) => ({ at: '', phase, message: '' }));
const limits = { failureLimit: 1, inconclusiveLimit: 1 };

describe('an analysis verdict', () => {
  it('fails once the failures exceed the limit, not before', () => {
    expect(judgeMeasurements(measured('Successful', 'Failed'), limits)).toBe('Successful');
    expect(judgeMeasurements(measured('Failed', 'Successful', 'Failed'), limits)).toBe('Failed');
  });

  it('is inconclusive past the inconclusive limit, so a person decides', () => {
    expect(judgeMeasurements(measured('Successful', 'Inconclusive', 'Inconclusive'), limits)).toBe('Inconclusive');
  });

  it('never counts a run whose every measurement errored as a success', () => {
    expect(judgeMeasurements(measured('Error'), limits)).toBe('Error');
    expect(judgeMeasurements(measured('Error', 'Error', 'Error', 'Error'), limits)).toBe('Error');
    expect(judgeMeasurements([], limits)).toBe('Error');
  });

  it('lets a few scattered errors pass when enough measurements succeeded', () => {
    expect(judgeMeasurements(measured('Error', 'Successful', 'Error', 'Successful'), limits)).toBe('Successful');
  });

  it('lets the worst template decide the step', () => {
    expect(combineVerdicts(['Successful', 'Inconclusive'])).toBe('Inconclusive');
    expect(combineVerdicts(['Inconclusive', 'Failed', 'Error'])).toBe('Failed');
    expect(combineVerdicts(['Successful', 'Successful'])).toBe('Successful');
  });

  it('keeps measuring while failures are within the limit, and stops as soon as one is exceeded', () => {
    expect(isDecided(measured('Failed'), limits)).toBe(false);
    expect(isDecided(measured('Failed', 'Successful'), limits)).toBe(false);
    expect(isDecided(measured('Failed', 'Failed'), limits)).toBe(true);
    expect(isDecided(measured('Inconclusive', 'Inconclusive'), limits)).toBe(true);
    expect(isDecided(measured('Error', 'Error', 'Error'), limits)).toBe(false);
    expect(isDecided(measured('Error', 'Error', 'Error', 'Error'), limits)).toBe(true);
  });
});
