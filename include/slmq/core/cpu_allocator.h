#pragma once
// A caching allocator for large CPU tensors. A forward pass allocates and frees tensors of the
// same sizes over and over (every layer, every batch); glibc serves blocks above its mmap
// threshold (32 MiB at most) with fresh mappings, so each costs page faults and page zeroing in
// the kernel: 27% of the CPU samples of a one-thread HellaSwag evaluation of SmolLM2-135M (perf).
// This allocator keeps freed blocks of 1 MiB or more (sizes rounded up to an eighth of their
// power of two) for reuse, up to a byte limit; smaller blocks go straight to c10's allocator.
// New blocks of 2 MiB or more are asked for on transparent huge pages (madvise; SLMQ_HUGE_PAGES=0
// turns it off): weights allocated after it is installed stream faster in decode.
#include <cstddef>

namespace slmq {

struct CpuAllocatorStats {
  size_t hits = 0;          // large allocations served from the cache
  size_t misses = 0;        // large allocations that needed new memory
  size_t cached_bytes = 0;  // freed blocks held for reuse now
};

// Makes it torch's CPU allocator for the rest of the process (first call only; later calls do
// nothing). max_cached_bytes: the most freed memory kept; past it the cache is released. 0: not
// installed.
void install_caching_cpu_allocator(size_t max_cached_bytes);

// install_caching_cpu_allocator($SLMQ_CPU_CACHE_MB MiB, else 2 GiB); ConfigError naming the
// variable for a value that is not a whole number. Evaluation installs it; quantization does not,
// so its peak-RSS cost figures count what the method needs, not freed blocks held for reuse.
void install_caching_cpu_allocator_from_env();

CpuAllocatorStats caching_cpu_allocator_stats();

}  // namespace slmq
