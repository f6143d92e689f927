// The scheduler's queue of ready tasks: a binary min-heap on each task's position in the run's
// topological order, so the next task to start is always the earliest ready one (what a sorted
// list gave, without its linear insert: 50,000 ready tasks cost O(n log n), not O(n²)).
// Positions are unique, so the order is total and runs start tasks in the same order as before.
export class ReadyQueue<T> {
  private readonly heap: { rank: number; item: T }[] = [];

  get length(): number {
    return this.heap.length;
  }

  push(rank: number, item: T): void {
    const h = this.heap;
    h.push({ rank, item });
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.rank <= rank) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  /** The item of lowest rank, left in place; undefined when empty. */
  peek(): T | undefined {
    return this.heap[0]?.item;
  }

  /** The item of lowest rank, removed; undefined when empty. */
  shift(): T | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.rank < h[m]!.rank) m = l;
        if (r < h.length && h[r]!.rank < h[m]!.rank) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.item;
  }

  clear(): void {
    this.heap.length = 0;
  }
}
