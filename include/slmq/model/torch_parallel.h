#pragma once
// The thin adapter between the torch-free kernels (slmq/kernels/) and torch's thread pool: the
// kernels split their work through a ParallelFor; this one runs it on at::parallel_for, so the
// kernels use the threads `--threads` / at::set_num_threads gave torch.
#include <ATen/Parallel.h>

#include "slmq/kernels/cpu_qlinear.h"

namespace slmq {

inline kernels::ParallelFor torch_parallel_for() {
  return [](int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
    at::parallel_for(0, n, grain, body);
  };
}

}  // namespace slmq
