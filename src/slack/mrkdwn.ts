/**
 * Text that is not Slack markup, made safe to put into a mrkdwn field or a message's `text`: Slack
 * reads `<...>` as a mention, a broadcast (`<!channel>`) or a link whose label can hide its target
 * (`<http://evil|docs>`), so `&`, `<` and `>` are written as entities, the three Slack says to escape.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 *
 * Every piece of text Tollgate did not write itself (names, reasons, command output, spec values)
 * goes through this before it is interpolated into a message; markup Tollgate writes (mentions of
 * Slack ids, its own links, dates) is added around the escaped text, never inside it.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
