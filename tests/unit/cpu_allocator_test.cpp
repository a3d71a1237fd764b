// The caching CPU allocator: freed large blocks come back for the next tensor of a nearby size,
// contents are the tensor's own, and the cache stays under its limit. Installing it is
// process-wide, so the tests after this one in the binary run on it too.
#include <ATen/ATen.h>
#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>

#include "slmq/core/cpu_allocator.h"

namespace slmq {
namespace {

constexpr size_t kLimit = size_t{64} << 20;

at::Tensor floats(int64_t n) { return at::empty({n}, at::kFloat); }

TEST(CachingCpuAllocator, ReusesFreedLargeBlocksAndKeepsContents) {
  install_caching_cpu_allocator(kLimit);
  const int64_t n = (4 << 20) / 4 - 1000;  // just under 4 MiB
  void* first = nullptr;
  {
    at::Tensor a = floats(n);
    first = a.data_ptr();
  }
  const CpuAllocatorStats before = caching_cpu_allocator_stats();
  at::Tensor b = floats(n + 100);  // the same 4 MiB bucket (2-4 MiB round up by 256 KiB)
  EXPECT_EQ(b.data_ptr(), first);
  EXPECT_EQ(caching_cpu_allocator_stats().hits, before.hits + 1);

  at::Tensor values = at::arange(n + 100, at::kFloat);
  b.copy_(values);
  EXPECT_TRUE(at::equal(b, values));
  at::Tensor c = floats(n);  // b is live: another block
  EXPECT_NE(c.data_ptr(), b.data_ptr());

  // Small tensors and raw allocations work through it too.
  at::Tensor small = at::ones({10});
  EXPECT_EQ(small.sum().item<float>(), 10.0f);
  c10::Allocator* alloc = c10::GetCPUAllocator();
  void* raw = alloc->raw_allocate(size_t{2} << 20);
  alloc->raw_deallocate(raw);
}

// Blocks of 2 MiB or more start on a 2 MiB boundary (what a transparent huge page needs; the
// madvise itself is advice the kernel may ignore, so only the alignment is checked here), and are
// written, read and freed like any other.
TEST(CachingCpuAllocator, LargeBlocksAreHugePageAligned) {
  install_caching_cpu_allocator(kLimit);
  at::Tensor t = floats((size_t{3} << 20) / 4);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data_ptr()) % (uintptr_t{2} << 20), 0u);
  t.fill_(2.0f);
  EXPECT_EQ(t.sum().item<double>(), 2.0 * t.numel());
}

TEST(CachingCpuAllocator, CacheStaysWithinItsLimit) {
  install_caching_cpu_allocator(kLimit);
  for (int64_t mib : {8, 16, 24, 40, 56, 80}) {
    { at::Tensor t = floats(mib * (1 << 20) / 4); }
    EXPECT_LE(caching_cpu_allocator_stats().cached_bytes, kLimit) << mib << " MiB";
  }
}

}  // namespace
}  // namespace slmq
