// Progress lines at a bounded rate: at most one per interval per label, whatever the caller's pace.

export interface Progress {
  /** Prints `[label] text` unless a line for this label was printed less than the interval ago. */
  tick(label: string, text: () => string): void;
  /** Prints at once (phase changes, results). */
  say(text: string): void;
}

export function createProgress(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`), everyMs = 1000): Progress {
  const last = new Map<string, number>();
  return {
    tick(label, text) {
      const now = Date.now();
      if (now - (last.get(label) ?? 0) < everyMs) return;
      last.set(label, now);
      write(`  [${label}] ${text()}`);
    },
    say(text) {
      write(text);
    },
  };
}
