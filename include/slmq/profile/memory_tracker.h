#pragma once
// Bytes of CPU tensor memory the process holds through torch's allocator: a counting layer over
// whichever CPU allocator is installed (c10's, or slmq's caching one), so inference memory can be
// reported by kind: what a workload allocates on top of the weights (KV cache, activations,
// workspace) is its live and peak count. Tensors allocated before install are not counted.
#include <cstdint>

namespace slmq {

struct TrackedMemory {
  int64_t live_bytes = 0;  // allocated through the tracker and not yet freed
  int64_t peak_bytes = 0;  // the most live_bytes reached since the last reset_peak
};

// Installs the tracker over the current CPU allocator (first call only). Thread-safe. An
// allocator installed later with a lower priority than the tracker's is then ignored, so install
// the caching allocator first.
void install_memory_tracker();
bool memory_tracker_installed();
TrackedMemory tracked_memory();
// Sets peak_bytes to live_bytes.
void reset_tracked_peak();

// Process resident set size now and at its peak (getrusage ru_maxrss), bytes; 0 when unknown.
int64_t current_rss_bytes();
int64_t peak_rss_bytes_now();

}  // namespace slmq
