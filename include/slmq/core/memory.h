#pragma once
// How much memory a new allocation could use on a device, for sizing batches.
#include <c10/core/Device.h>

#include <cstdint>

namespace slmq {

// CPU: MemAvailable from /proc/meminfo (0 when unreadable). CUDA: the driver's free memory plus
// what torch's caching allocator holds reserved but unused (0 without CUDA support).
int64_t available_memory_bytes(c10::Device device);

}  // namespace slmq
