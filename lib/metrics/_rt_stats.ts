/**
 * Since-start response-time stats (count, sum, last, min, max), as dubbo-go's `RtVec`
 * reports them for calls and registry operations.
 *
 * @module
 */

/** Since-start response-time stats, as dubbo-go's `RtVec` reports them. */
export class RtStats {
  count = 0;
  sum = 0;
  last = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds one observation in milliseconds. */
  observe(ms: number): void {
    this.count++;
    this.sum += ms;
    this.last = ms;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }
}
