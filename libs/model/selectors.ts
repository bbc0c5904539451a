// Label selectors with Kubernetes semantics: the structured apps/v1 `LabelSelector`
// (metav1.LabelSelectorAsSelector), kubectl's printed form (metav1.FormatLabelSelector), and the
// string form of `-l` flags (labels.Parse).

import type { LabelSelector, Labels } from './types.js';
import { isQualifiedName, isValidLabelValue } from './label-syntax.js';

export type SelectorOperator = 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Gt' | 'Lt';

/** One parsed requirement (labels.Requirement). */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

function has(labels: Labels, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(labels, key);
}

/** labels.Requirement.Matches. */
export function requirementMatches(req: SelectorRequirement, labels: Labels): boolean {
  const present = has(labels, req.key);
  const value = present ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'Equals':
    case 'In':
      return present && req.values.includes(value ?? '');
    case 'NotEquals':
    case 'NotIn':
      return !present || !req.values.includes(value ?? '');
    case 'Gt':
    case 'Lt': {
      if (!present || req.values.length !== 1) return false;
      const have = parseInt64(value ?? '');
      const want = parseInt64(req.values[0] ?? '');
      if (have === undefined || want === undefined) return false;
      return req.operator === 'Gt' ? have > want : have < want;
    }
    default: {
      const never: never = req.operator;
      return never;
    }
  }
}

/** strconv.ParseInt(s, 10, 64); undefined when it does not parse. */
export function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined;
  return n;
}

/**
 * The requirements of a structured selector (LabelSelectorAsSelector), sorted by key as Kubernetes
 * sorts them. matchLabels become Equals requirements.
 */
export function selectorRequirements(sel: LabelSelector): SelectorRequirement[] {
  const reqs: SelectorRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    reqs.push({ key, operator: 'Equals', values: [value] });
  }
  for (const expr of sel.matchExpressions ?? []) {
    reqs.push({ key: expr.key, operator: expr.operator, values: [...(expr.values ?? [])] });
  }
  // Array.prototype.sort is stable: a key in both matchLabels and matchExpressions keeps that order.
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Does a structured selector select these labels? An empty selector selects everything. */
export function matchesSelector(sel: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) {
    if (!has(labels, key) || labels[key] !== value) return false;
  }
  for (const expr of sel.matchExpressions ?? []) {
    if (!requirementMatches({ key: expr.key, operator: expr.operator, values: expr.values ?? [] }, labels)) return false;
  }
  return true;
}

/** labels.Requirement.String. */
export function formatRequirement(req: SelectorRequirement): string {
  const values = req.values.length === 1 ? (req.values[0] ?? '') : [...req.values].sort().join(',');
  switch (req.operator) {
    case 'Exists':
      return req.key;
    case 'DoesNotExist':
      return `!${req.key}`;
    case 'Equals':
      return `${req.key}=${values}`;
    case 'NotEquals':
      return `${req.key}!=${values}`;
    case 'In':
      return `${req.key} in (${values})`;
    case 'NotIn':
      return `${req.key} notin (${values})`;
    case 'Gt':
      return `${req.key}>${values}`;
    case 'Lt':
      return `${req.key}<${values}`;
    default: {
      const never: never = req.operator;
      return never;
    }
  }
}

/** metav1.FormatLabelSelector as kubectl prints it: `name=fluentd,tier in (a,b)`; `<none>` when empty. */
export function formatSelector(sel: LabelSelector): string {
  const text = selectorRequirements(sel).map(formatRequirement).join(',');
  return text.length === 0 ? '<none>' : text;
}

// ---- the string form (labels.Parse) ----------------------------------------------------------

export type ParsedSelector =
  | { readonly ok: true; readonly requirements: readonly SelectorRequirement[]; readonly matches: (labels: Labels) => boolean }
  | { readonly ok: false; readonly error: string };

type Token =
  | { readonly kind: 'id'; readonly text: string }
  | { readonly kind: 'op'; readonly text: '!' | '=' | '==' | '!=' | '(' | ')' | ',' | '>' | '<' }
  | { readonly kind: 'end' };

const SPECIAL = new Set(['!', '=', ',', '(', ')', '<', '>']);

function isSpace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (isSpace(ch)) {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '==' || two === '!=') {
      tokens.push({ kind: 'op', text: two });
      i += 2;
      continue;
    }
    if (ch === '!' || ch === '=' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<') {
      tokens.push({ kind: 'op', text: ch });
      i++;
      continue;
    }
    let j = i;
    while (j < text.length && !isSpace(text[j] ?? '') && !SPECIAL.has(text[j] ?? '')) j++;
    tokens.push({ kind: 'id', text: text.slice(i, j) });
    i = j;
  }
  tokens.push({ kind: 'end' });
  return tokens;
}

function describe(tok: Token): string {
  return tok.kind === 'end' ? 'end of string' : `'${tok.text}'`;
}

/**
 * Parses a `-l` selector: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`,
 * comma-separated (all must hold). An empty string selects everything.
 */
export function parseSelectorString(text: string): ParsedSelector {
  const tokens = lex(text);
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? { kind: 'end' };
  const next = (): Token => tokens[pos++] ?? { kind: 'end' };
  const requirements: SelectorRequirement[] = [];
  const fail = (error: string): ParsedSelector => ({ ok: false, error: `unable to parse requirement: ${error}` });

  if (peek().kind === 'end') return { ok: true, requirements, matches: () => true };

  for (;;) {
    let tok = next();
    let req: SelectorRequirement;
    if (tok.kind === 'op' && tok.text === '!') {
      const key = next();
      if (key.kind !== 'id') return fail(`found ${describe(key)}, expected: identifier after '!'`);
      req = { key: key.text, operator: 'DoesNotExist', values: [] };
    } else if (tok.kind === 'id') {
      const key = tok.text;
      tok = peek();
      if (tok.kind === 'end' || (tok.kind === 'op' && tok.text === ',')) {
        req = { key, operator: 'Exists', values: [] };
      } else if (tok.kind === 'op' && (tok.text === '=' || tok.text === '==' || tok.text === '!=' || tok.text === '>' || tok.text === '<')) {
        next();
        const operator: SelectorOperator =
          tok.text === '!=' ? 'NotEquals' : tok.text === '>' ? 'Gt' : tok.text === '<' ? 'Lt' : 'Equals';
        const value = peek();
        let text = '';
        if (value.kind === 'id') {
          next();
          text = value.text;
        } else if (!(value.kind === 'end' || (value.kind === 'op' && value.text === ','))) {
          return fail(`found ${describe(value)}, expected: identifier`);
        }
        req = { key, operator, values: [text] };
      } else if (tok.kind === 'id' && (tok.text === 'in' || tok.text === 'notin')) {
        next();
        const open = next();
        if (!(open.kind === 'op' && open.text === '(')) return fail(`found ${describe(open)}, expected: '('`);
        const values: string[] = [];
        for (;;) {
          let v = next();
          if (v.kind === 'op' && v.text === ')' && values.length === 0) break;
          if (v.kind === 'id') {
            values.push(v.text);
            v = next();
          } else if (v.kind === 'op' && (v.text === ',' || v.text === ')')) {
            values.push(''); // `a in (,x)` holds an empty value, as in Kubernetes
          } else {
            return fail(`found ${describe(v)}, expected: ',', ')' or identifier`);
          }
          if (v.kind === 'op' && v.text === ')') break;
          if (!(v.kind === 'op' && v.text === ',')) return fail(`found ${describe(v)}, expected: ',' or ')'`);
        }
        req = { key, operator: tok.text === 'in' ? 'In' : 'NotIn', values };
      } else {
        return fail(`found ${describe(tok)}, expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      return fail(`found ${describe(tok)}, expected: !, identifier, or 'end of string'`);
    }

    const problem = checkRequirement(req);
    if (problem !== undefined) return { ok: false, error: problem };
    requirements.push(req);

    const sep = next();
    if (sep.kind === 'end') break;
    if (!(sep.kind === 'op' && sep.text === ',')) return fail(`found ${describe(sep)}, expected: ','`);
  }

  requirements.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const frozen: readonly SelectorRequirement[] = requirements;
  return {
    ok: true,
    requirements: frozen,
    matches: (labels: Labels) => frozen.every((r) => requirementMatches(r, labels)),
  };
}

/** labels.NewRequirement's checks. */
function checkRequirement(req: SelectorRequirement): string | undefined {
  const keyErrs = isQualifiedName(req.key);
  if (keyErrs.length > 0) return `invalid label key "${req.key}": ${keyErrs.join('; ')}`;
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (req.values.length === 0) return "for 'in', 'notin' operators, values set can't be empty";
      break;
    case 'Equals':
    case 'NotEquals':
      if (req.values.length !== 1) return "exact-match compatibility requires one single value";
      break;
    case 'Gt':
    case 'Lt':
      if (req.values.length !== 1 || parseInt64(req.values[0] ?? '') === undefined) {
        return "for 'Gt', 'Lt' operators, exactly one integer value is required";
      }
      return undefined;
    case 'Exists':
    case 'DoesNotExist':
      break;
  }
  for (const v of req.values) {
    const errs = isValidLabelValue(v);
    if (errs.length > 0) return `invalid label value: "${v}": at key: "${req.key}": ${errs.join('; ')}`;
  }
  return undefined;
}
