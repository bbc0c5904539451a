// Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource), exactly: a quantity is
// kept as a fraction of two bigints, so `0.1`, `100m` and `1e-1` are the same value and nothing is
// lost to floating point before the kubelet's own rounding.
//
//   <quantity> ::= <sign>? <digits> ( '.' <digits>? )? <suffix>? | <sign>? '.' <digits> <suffix>?
//   <suffix>   ::= Ki | Mi | Gi | Ti | Pi | Ei | n | u | m | k | M | G | T | P | E | (e|E) <sign>? <digits>

export interface Quantity {
  /** The value is numerator / denominator; denominator > 0. */
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const BINARY_EXPONENT: Readonly<Record<string, bigint>> = { Ki: 10n, Mi: 20n, Gi: 30n, Ti: 40n, Pi: 50n, Ei: 60n };
const DECIMAL_EXPONENT: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Parses a quantity as the API server does (`resource.ParseQuantity`); undefined when malformed. A JSON number is read as its decimal text. */
export function parseQuantity(input: unknown): Quantity | undefined {
  const text = typeof input === 'number' && Number.isFinite(input) ? String(input) : input;
  if (typeof text !== 'string') return undefined;
  const m = QUANTITY.exec(text);
  if (m === null) return undefined;
  const [, sign = '', number = '', suffix = ''] = m;
  const [whole = '', fraction = ''] = number.split('.');
  let numerator = BigInt(`${whole}${fraction}` || '0');
  let denominator = 10n ** BigInt(fraction.length);
  if (sign === '-') numerator = -numerator;
  const binary = BINARY_EXPONENT[suffix];
  let exponent = 0;
  if (binary !== undefined) numerator *= 2n ** binary;
  else if (suffix.startsWith('e') || suffix.startsWith('E')) exponent = Number(suffix.slice(1));
  else exponent = DECIMAL_EXPONENT[suffix] ?? 0;
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 1000) return undefined;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator *= 10n ** BigInt(-exponent);
  return { numerator, denominator };
}

function ceilDiv(n: bigint, d: bigint): bigint {
  const q = n / d; // truncates toward zero
  return n % d !== 0n && n > 0n ? q + 1n : q;
}

/** `Quantity.Value()`: the value rounded up to an integer. */
export function quantityValue(q: Quantity): bigint {
  return ceilDiv(q.numerator, q.denominator);
}

/** `Quantity.MilliValue()`: the value in thousandths, rounded up. */
export function quantityMilliValue(q: Quantity): bigint {
  return ceilDiv(q.numerator * 1000n, q.denominator);
}

export function isZeroQuantity(q: Quantity): boolean {
  return q.numerator === 0n;
}
