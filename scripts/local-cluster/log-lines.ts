// What the launcher prints: every child's lines and its own, prefixed `[name]`, and durations.

/** Prints one line under a name: a child's, or `launcher` for the launcher's own. */
export type Print = (name: string, line: string) => void;

const ANSI_COLOURS = [36, 33, 32, 35, 34, 91, 96, 93, 92, 95] as const;
const ANSI_RESET = '\u001b[0m';

/**
 * Returns a function that prefixes a child's output line with `[name]` padded to the widest name,
 * coloured (one colour per name, in the order given) when `colour` is true.
 */
export function linePrefixer(names: readonly string[], colour: boolean): (name: string, line: string) => string {
  const width = Math.max(0, ...names.map((name) => name.length + 2));
  return (name, line) => {
    const label = `[${name}]`.padEnd(width);
    if (!colour) return `${label} ${line}`;
    const index = names.indexOf(name);
    const code = ANSI_COLOURS[(index < 0 ? 0 : index) % ANSI_COLOURS.length];
    return `\u001b[${code}m${label}${ANSI_RESET} ${line}`;
  };
}

/** `250 ms`, `1 s`, `1.5 s`. */
export function formatMs(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)} s`;
}
