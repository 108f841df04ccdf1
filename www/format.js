/* Figures as both pages write them for people: percentages, durations, dates and
 * sizes. A module imported by app.js (index.html) and model.js (model.html); '–'
 * (or null from dateTime) stands for a value that is missing or not a number.
 */

/** A probability (0..1) as a percentage with one decimal; never rounds to 0 % or 100 %. */
export function percent(p) {
  const v = p * 100;
  if (!Number.isFinite(v)) return '–';
  if (v > 0 && v < 0.1) return '<0.1%';
  if (v > 99.9 && v < 100) return '>99.9%';
  return v.toFixed(1) + '%';
}

/**
 * Seconds in words: "4.2 s" (one decimal below 10 s, where a whole second would hide
 * most of the figure: a short training, one epoch of it), "42 s", "3 min 5 s", "2 h 7 min".
 */
export function duration(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 10) return seconds.toFixed(1) + ' s';
  if (seconds < 90) return Math.round(seconds) + ' s';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 90) return m + ' min ' + s + ' s';
  return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
}

/** An ISO 8601 time in the reader's locale and time zone, or null when it is not one. */
export function dateTime(iso) {
  const d = new Date(iso);
  if (typeof iso !== 'string' || Number.isNaN(d.getTime())) return null;
  try {
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  } catch (e) {
    return d.toISOString();
  }
}

/** A size in bytes: "512 B", "1.6 KB", "1.6 MB" (KB and MB of 1024). */
export function bytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  return (n / 1024 / 1024).toFixed(1) + ' MB';
}
