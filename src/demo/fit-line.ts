/**
 * `text` cut to `width` characters with an ellipsis, on character boundaries: slicing a JavaScript
 * string by length can split an emoji's two halves, which a terminal shows as garbage.
 */
export function fitToWidth(text: string, width: number): string {
  const characters = [...text];
  if (characters.length <= width) return text;
  return `${characters.slice(0, Math.max(0, width - 1)).join('')}…`;
}
