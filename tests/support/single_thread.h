#pragma once
// One intra-op thread for the scope, so fp32 sums run in the reference generators' order (ctest's
// OMP_NUM_THREADS does not reach the test process; a GEMM split over threads sums differently).
#include <ATen/Parallel.h>

namespace slmq::test {

class SingleThread {
 public:
  SingleThread() : before_(at::get_num_threads()) { at::set_num_threads(1); }
  ~SingleThread() { at::set_num_threads(before_); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;

 private:
  int before_;
};

}  // namespace slmq::test
