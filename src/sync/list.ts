// Wait lists kept as arrays in queue order (the kernel's list_head of waiters).

/** list_del() of the i-th waiter, keeping the order: splice(i, 1) without its array of removed elements. */
export function removeAt<T>(a: T[], i: number): void {
  const n = a.length - 1;
  for (let j = i; j < n; j++) a[j] = a[j + 1]!;
  a.pop();
}
