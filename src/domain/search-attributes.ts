import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';

/**
 * What the Temporal UI filters releases by. Registered on the dev server by the devstack and on
 * real clusters by `tollgate setup`. Values are stored in clear: never a secret in them.
 */
export const ReleaseService = defineSearchAttributeKey('ReleaseService', SearchAttributeType.KEYWORD);
export const ReleaseEnvironment = defineSearchAttributeKey('ReleaseEnvironment', SearchAttributeType.KEYWORD);
export const ReleaseVersion = defineSearchAttributeKey('ReleaseVersion', SearchAttributeType.KEYWORD);
export const ReleaseStage = defineSearchAttributeKey('ReleaseStage', SearchAttributeType.KEYWORD);
export const ReleaseWeight = defineSearchAttributeKey('ReleaseWeight', SearchAttributeType.INT);
export const ReleaseInitiator = defineSearchAttributeKey('ReleaseInitiator', SearchAttributeType.KEYWORD);

export const RELEASE_SEARCH_ATTRIBUTES = [
  ReleaseService,
  ReleaseEnvironment,
  ReleaseVersion,
  ReleaseStage,
  ReleaseWeight,
  ReleaseInitiator,
] as const;

/** A new release as the Temporal UI lists it: what it releases, who started it, Queued at 0%. */
export function queuedReleaseAttributes(
  spec: { service: string; environment: string; version: string },
  initiatorId: string,
): SearchAttributePair[] {
  return [
    { key: ReleaseService, value: spec.service },
    { key: ReleaseEnvironment, value: spec.environment },
    { key: ReleaseVersion, value: spec.version },
    { key: ReleaseInitiator, value: initiatorId },
    { key: ReleaseStage, value: 'Queued' },
    { key: ReleaseWeight, value: 0 },
  ];
}
