import type { View } from '@slack/types';
import { NAME_PATTERN, VERSION_PATTERN } from '../domain/spec';

export const RELEASE_MODAL = 'release_modal';

const BLOCKS = { service: 'service', environment: 'environment', version: 'version' } as const;

/** The form behind a bare `/release`: service and environment from the catalogue, a version typed in. */
export function releaseModal(entries: { service: string; environments: string[] }[], channel: string): View {
  const option = (value: string) => ({ text: { type: 'plain_text' as const, text: value.slice(0, 75) }, value });
  const environments = [...new Set(entries.flatMap((entry) => entry.environments))].sort();
  return {
    type: 'modal',
    callback_id: RELEASE_MODAL,
    private_metadata: channel,
    title: { type: 'plain_text', text: 'Start a release' },
    submit: { type: 'plain_text', text: 'Release' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: BLOCKS.service,
        label: { type: 'plain_text', text: 'Service' },
        element: {
          type: 'static_select',
          action_id: 'value',
          options: entries.slice(0, 100).map((entry) => option(entry.service)),
        },
      },
      {
        type: 'input',
        block_id: BLOCKS.environment,
        label: { type: 'plain_text', text: 'Environment' },
        element: { type: 'static_select', action_id: 'value', options: environments.slice(0, 100).map(option) },
      },
      {
        type: 'input',
        block_id: BLOCKS.version,
        label: { type: 'plain_text', text: 'Version' },
        element: {
          type: 'plain_text_input',
          action_id: 'value',
          placeholder: { type: 'plain_text', text: '2.4.0' },
          max_length: 128,
        },
      },
    ],
  };
}

interface SubmittedView {
  private_metadata?: string;
  state: {
    values: Record<string, Record<string, { value?: string | null; selected_option?: { value: string } | null }>>;
  };
}

/** The submitted form, or the per-field errors Slack shows under the fields. */
export function readReleaseModal(
  view: SubmittedView,
):
  | { request: { service: string; environment: string; version: string }; channel: string }
  | { errors: Record<string, string> } {
  const read = (block: string) => {
    const field = view.state.values[block]?.value;
    return (field?.selected_option?.value ?? field?.value ?? '').trim();
  };
  const request = {
    service: read(BLOCKS.service),
    environment: read(BLOCKS.environment),
    version: read(BLOCKS.version),
  };
  const errors: Record<string, string> = {};
  if (!NAME_PATTERN.test(request.service)) errors[BLOCKS.service] = 'Pick a service';
  if (!NAME_PATTERN.test(request.environment)) errors[BLOCKS.environment] = 'Pick an environment';
  if (!VERSION_PATTERN.test(request.version))
    errors[BLOCKS.version] = 'A version such as 2.4.0 (letters, digits, . _ + -)';
  return Object.keys(errors).length ? { errors } : { request, channel: view.private_metadata ?? '' };
}
