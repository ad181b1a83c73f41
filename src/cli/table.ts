/**
 * Rows under a header, each column as wide as its widest cell (two spaces between), for lists
 * people read in a terminal. The last column is not padded, so lines end without spaces.
 */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max([...title].length, ...rows.map((row) => [...(row[column] ?? '')].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === cells.length - 1 ? cell : cell + ' '.repeat(widths[column] - [...cell].length),
      )
      .join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
