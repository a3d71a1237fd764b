#pragma once
#include <ATen/ATen.h>

namespace slmq::test {

// max |a - b| over positions where mask [B,T] is non-zero; a, b [B,T,V] compared in fp32.
inline double max_abs_diff_masked(const at::Tensor& a, const at::Tensor& b,
                                  const at::Tensor& mask) {
  at::Tensor diff = (a.to(at::kFloat) - b.to(at::kFloat)).abs().amax(-1);  // [B,T]
  return diff.masked_select(mask.to(at::kBool)).max().item<double>();
}

}  // namespace slmq::test
