// Ages as kubectl prints them: a port of k8s.io/apimachinery/pkg/util/duration.HumanDuration and
// of the printers' translateTimestampSince.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * HumanDuration: ~2-3 significant figures (`5s`, `119s`, `2m30s`, `10m`, `3h5m`, `8h`, `2d1h`,
 * `8d`, `2y1d`, `8y`). Within 2 seconds in the future it says `0s` (clock skew); further ahead it
 * says `<invalid>`. Go truncates toward zero when it converts, and so does this.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = Math.trunc(ms / SECOND) % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = Math.trunc(ms / MINUTE) % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    const d = Math.trunc(hours / 24);
    return h === 0 ? `${d}d` : `${d}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const years = Math.trunc(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const dy = Math.trunc(hours / 24) % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/**
 * translateTimestampSince: the age of a timestamp, `<unknown>` for the zero time (0 here).
 * Timestamps are cut to whole seconds first, as metav1.Time is on the wire, so an object created
 * at 10.9s is 1s old at 11.0s, exactly as kubectl would show it.
 */
export function translateTimestampSince(ms: number, nowMs: number): string {
  if (ms === 0) return '<unknown>';
  return humanDuration(nowMs - Math.floor(ms / SECOND) * SECOND);
}
