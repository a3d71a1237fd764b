#include "slmq/quant/rotation/online_hadamard.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>

#include "slmq/core/error.h"

namespace slmq {
namespace {

int64_t transform_width(const LinearBackend& inner, OnlineHadamardLinear::Mode mode,
                        int64_t heads) {
  if (mode == OnlineHadamardLinear::Mode::kFull) return inner.in_features();
  if (heads <= 0 || inner.in_features() % heads != 0)
    throw InternalError(fmt::format("OnlineHadamardLinear: {} heads do not divide {} inputs", heads,
                                    inner.in_features()));
  return heads;
}

int64_t log2_floor(int64_t m) {
  int64_t l = 0;
  while ((int64_t{1} << (l + 1)) <= m) ++l;
  return l;
}

}  // namespace

OnlineHadamardLinear::OnlineHadamardLinear(std::unique_ptr<LinearBackend> inner, Mode mode,
                                           int64_t heads, bool fp32)
    : inner_(std::move(inner)),
      mode_(mode),
      heads_(heads),
      fp32_(fp32),
      transform_(transform_width(*inner_, mode, heads)) {}

at::Tensor OnlineHadamardLinear::transform_input(const at::Tensor& x) const {
  at::Tensor h = fp32_ ? x.to(at::kFloat) : x;
  if (mode_ == Mode::kFull) {
    h = transform_.apply(h);
  } else {
    // [..., H·D] -> [..., D, H]: each column of the heads×dims matrix is transformed.
    std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end() - 1);
    shape.push_back(heads_);
    shape.push_back(x.size(-1) / heads_);
    h = transform_.apply(h.reshape(shape).transpose(-1, -2)).transpose(-1, -2).reshape(x.sizes());
  }
  return h.to(x.scalar_type());
}

at::Tensor OnlineHadamardLinear::forward(const at::Tensor& x) const {
  return inner_->forward(transform_input(x));
}

int64_t OnlineHadamardLinear::macs(int64_t tokens) const {
  const int64_t n = inner_->in_features();
  const int64_t k = transform_.factor(), m = transform_.size() / k;
  return inner_->macs(tokens) + tokens * n * (log2_floor(m) + k);
}

nlohmann::json OnlineHadamardLinear::describe() const {
  return {{"mode", mode_ == Mode::kFull ? "full" : "across_heads"},
          {"size", transform_.size()},
          {"factor", transform_.factor()},
          {"fp32", fp32_}};
}

const LinearBackend& unwrap_online(const LinearBackend& linear) {
  const LinearBackend* l = &linear;
  while (const auto* w = dynamic_cast<const OnlineHadamardLinear*>(l)) l = &w->inner();
  return *l;
}

std::unique_ptr<LinearBackend>& unwrap_online_slot(std::unique_ptr<LinearBackend>& slot) {
  std::unique_ptr<LinearBackend>* s = &slot;
  while (auto* w = dynamic_cast<OnlineHadamardLinear*>(s->get())) s = &w->inner_slot();
  return *s;
}

}  // namespace slmq
