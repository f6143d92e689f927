// Root mean square of per-(sample, output) values: the aggregate the Taylor results and the
// correlate stage report. Plain JS (no tfjs), summed in index order so results never move.

/** sqrt(mean of v^2) over all entries; 0 for no entries; NaN if any entry is not finite. */
export function rmsOf(v: ArrayLike<number>): number {
  let s = 0;
  for (let k = 0; k < v.length; k++) s += v[k] * v[k];
  return Math.sqrt(s / Math.max(1, v.length));
}
