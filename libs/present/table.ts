// Column alignment exactly as kubectl does it: a port of Go's text/tabwriter (the elastic
// tabstops algorithm) with the two settings kubectl uses, plus kubectl's "No resources found".
//
// tabwriter in one paragraph: text is cut into cells at '\t'; a cell belongs to a column only
// when a tab ends it, so the last cell of a line is never padded. A column's width is decided
// per block of consecutive lines that all have a cell in that column: the widest cell plus
// `padding`, at least `minWidth`. A line without that cell ends the block.

export interface TabwriterSettings {
  readonly minWidth: number;
  readonly padding: number;
}

/** printers.GetNewTabWriter: tabwriter.NewWriter(out, 6, 4, 3, ' ', 0) - `kubectl get`. */
export const GET_TABWRITER: TabwriterSettings = { minWidth: 6, padding: 3 };

/** describe's tabbedString: tabwriter.Init(buf, 0, 8, 2, ' ', 0) - `kubectl describe`. */
export const DESCRIBE_TABWRITER: TabwriterSettings = { minWidth: 0, padding: 2 };

/** Go's tabwriter counts runes (utf8.RuneCount), not UTF-16 code units. */
function textWidth(text: string): number {
  return [...text].length;
}

/** Aligns tab-separated text, as writing it through a tabwriter and flushing once would. */
export function tabwrite(text: string, settings: TabwriterSettings): string {
  const lines = text.split('\n').map((line) => line.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number): void => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i] ?? [];
      cells.forEach((cell, j) => {
        out.push(cell);
        const width = widths[j];
        if (width !== undefined) out.push(' '.repeat(Math.max(0, width - textWidth(cell))));
      });
      // The text after the last newline is a partial line: no newline of its own.
      if (i + 1 < lines.length) out.push('\n');
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    let start = line0;
    for (let i = line0; i < line1; i++) {
      if (column >= (lines[i] ?? []).length - 1) continue;
      // A block of lines with a cell in this column starts here.
      writeLines(start, i);
      start = i;
      let width = settings.minWidth;
      for (; i < line1; i++) {
        const cells = lines[i] ?? [];
        if (column >= cells.length - 1) break;
        width = Math.max(width, textWidth(cells[column] ?? '') + settings.padding);
      }
      widths.push(width);
      format(start, i);
      widths.pop();
      start = i;
    }
    writeLines(start, line1);
  };

  format(0, lines.length);
  return out.join('');
}

/**
 * kubectl's table: upper-case headers, cells joined by tabs, no tab after the last cell, aligned
 * with the `get` settings (columns 3 spaces apart, no trailing spaces).
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const text = [headers.map((h) => h.toUpperCase()), ...rows].map((cells) => `${cells.join('\t')}\n`).join('');
  return tabwrite(text, GET_TABWRITER);
}

/**
 * What `kubectl get` writes to stderr when a list is empty: `No resources found in NS namespace.`
 * for a namespaced list in one namespace, `No resources found` for -A or cluster-scoped kinds.
 */
export function noResourcesFound(namespace: string | undefined): string {
  return namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`;
}

export interface TableOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** A table on stdout, or nothing on stdout and the "No resources found" line on stderr. */
export function tableOrEmpty(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  namespace: string | undefined,
): TableOutput {
  if (rows.length === 0) return { stdout: '', stderr: noResourcesFound(namespace) };
  return { stdout: formatTable(headers, rows), stderr: '' };
}
