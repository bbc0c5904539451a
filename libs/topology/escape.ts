// Reversible escaping of names (namespaces, DaemonSet and node names) into single subject tokens.
// A subject token may not contain '.', '*', '>' or white space, and names such as
// `ip-10-0-0-1.ec2.internal` contain dots. Every byte outside [A-Za-z0-9_-] becomes `%XX`
// (upper-case hex of its UTF-8 bytes), so the mapping is injective and `unescapeToken` inverts it.

const SAFE = /^[A-Za-z0-9_-]+$/;

export function escapeToken(name: string): string {
  if (name.length === 0) throw new RangeError('cannot escape an empty name into a subject token');
  // A lone surrogate has no UTF-8 form: TextEncoder would map it to U+FFFD, and two names to one token.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(name)) {
    throw new RangeError('cannot escape a name with a lone surrogate into a subject token');
  }
  if (SAFE.test(name)) return name;
  let out = '';
  for (const byte of new TextEncoder().encode(name)) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && /[A-Za-z0-9_-]/.test(ch)) out += ch;
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function unescapeToken(token: string): string {
  if (!token.includes('%')) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === '%') {
      const hex = token.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new RangeError(`bad escape in subject token: ${token}`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0));
    }
  }
  // ignoreBOM: a leading U+FEFF is part of the name; dropping it would let `%EF%BB%BFnode-1`
  // speak for `node-1` (found by fuzzing).
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(bytes));
}
