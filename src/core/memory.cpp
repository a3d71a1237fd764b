#include "slmq/core/memory.h"

#include <fstream>
#include <sstream>
#include <string>

#ifdef SLMQ_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace slmq {
namespace {

int64_t cpu_available_bytes() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    int64_t kib = 0;
    fields >> kib;
    return kib * 1024;
  }
  return 0;
}

#ifdef SLMQ_WITH_CUDA
int64_t cuda_available_bytes(c10::Device device) {
  const c10::DeviceIndex index = device.index() < 0 ? 0 : device.index();
  c10::cuda::CUDAGuard guard(index);
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) return 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  using Stat = c10::CachingAllocator::StatType;
  const auto agg = static_cast<size_t>(Stat::AGGREGATE);
  const int64_t cached = stats.reserved_bytes[agg].current - stats.allocated_bytes[agg].current;
  return static_cast<int64_t>(free) + std::max<int64_t>(cached, 0);
}
#endif

}  // namespace

int64_t available_memory_bytes(c10::Device device) {
  if (device.is_cpu()) return cpu_available_bytes();
#ifdef SLMQ_WITH_CUDA
  if (device.is_cuda()) return cuda_available_bytes(device);
#endif
  return 0;
}

}  // namespace slmq
