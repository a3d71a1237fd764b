#include "slmq/profile/memory_tracker.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <unordered_map>

namespace slmq {
namespace {

// Counts every allocation it forwards to the allocator it wraps. The wrapped allocators hand out
// data pointers that are their own context (c10's and slmq's caching one do), so freeing goes
// through a raw deleter that looks the size up by address.
class TrackingCpuAllocator final : public c10::Allocator {
 public:
  explicit TrackingCpuAllocator(c10::Allocator* base)
      : base_(base), base_deleter_(base->raw_deleter()) {}

  c10::DataPtr allocate(size_t n) override {
    c10::DataPtr inner = base_->allocate(n);
    void* data = inner.get();
    if (data == nullptr || inner.get_context() != data || base_deleter_ == nullptr)
      return inner;  // not a raw pointer we can free ourselves: left uncounted
    inner.release_context();
    {
      std::lock_guard lock(mutex_);
      sizes_[data] = n;
    }
    const int64_t live = live_.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
    int64_t peak = peak_.load();
    while (live > peak && !peak_.compare_exchange_weak(peak, live)) {
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &release; }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    default_copy_data(dest, src, count);
  }

  TrackedMemory stats() const { return {live_.load(), peak_.load()}; }
  void reset_peak() { peak_.store(live_.load()); }

 private:
  static void release(void* data);

  void give_back(void* data) {
    size_t n = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = sizes_.find(data);
      if (it != sizes_.end()) {
        n = it->second;
        sizes_.erase(it);
      }
    }
    live_.fetch_sub(static_cast<int64_t>(n));
    base_deleter_(data);
  }

  c10::Allocator* base_;
  c10::DeleterFnPtr base_deleter_;
  std::mutex mutex_;
  std::unordered_map<void*, size_t> sizes_;
  std::atomic<int64_t> live_{0}, peak_{0};
};

TrackingCpuAllocator* g_tracker = nullptr;

void TrackingCpuAllocator::release(void* data) { g_tracker->give_back(data); }

}  // namespace

void install_memory_tracker() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never freed: tensors may outlive main()'s locals.
    g_tracker = new TrackingCpuAllocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(g_tracker, /*priority=*/2);
  });
}

bool memory_tracker_installed() { return g_tracker != nullptr; }

TrackedMemory tracked_memory() { return g_tracker ? g_tracker->stats() : TrackedMemory{}; }

void reset_tracked_peak() {
  if (g_tracker) g_tracker->reset_peak();
}

int64_t current_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

int64_t peak_rss_bytes_now() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

}  // namespace slmq
