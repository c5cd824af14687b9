// Linear memory, managed by hand: everything is reserved once at init() from a bump pointer
// above the static data, and never freed (one instance per scheduler; the host drops the
// instance to release it). No managed objects anywhere: the runtime is the stub.

let bump: usize = 0

/** Reserve `bytes` zeroed bytes aligned to 64 (a cache line); 0 if memory cannot grow. */
export function reserve(bytes: usize): usize {
  if (bump == 0) bump = (__heap_base + 63) & ~63
  const start = bump
  const end = (start + bytes + 63) & ~63
  const pagesNeeded = i32((end + 0xffff) >>> 16)
  const pagesHave = memory.size()
  if (pagesNeeded > pagesHave && memory.grow(pagesNeeded - pagesHave) < 0) return 0
  memory.fill(start, 0, bytes)
  bump = end
  return start
}
