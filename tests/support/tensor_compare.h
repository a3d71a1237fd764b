#pragma once
#include <ATen/ATen.h>

#include <vector>

namespace slmq::test {

// max |a - b| over positions where mask [B,T] is non-zero; a, b [B,T,V] compared in fp32.
inline double max_abs_diff_masked(const at::Tensor& a, const at::Tensor& b,
                                  const at::Tensor& mask) {
  at::Tensor diff = (a.to(at::kFloat) - b.to(at::kFloat)).abs().amax(-1);  // [B,T]
  return diff.masked_select(mask.to(at::kBool)).max().item<double>();
}

// A 1-D int64 tensor as a vector.
inline std::vector<int64_t> to_ids(const at::Tensor& t) {
  at::Tensor c = t.contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// The real tokens of each left-padded row of ids [B,T] under mask [B,T].
inline std::vector<std::vector<int64_t>> unpadded_rows(const at::Tensor& ids,
                                                       const at::Tensor& mask) {
  std::vector<std::vector<int64_t>> rows;
  for (int64_t row = 0; row < ids.size(0); ++row)
    rows.push_back(to_ids(ids[row].masked_select(mask[row].to(at::kBool))));
  return rows;
}

}  // namespace slmq::test
