#include "slmq/eval/token_windows.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>

#include "slmq/core/error.h"

namespace slmq::eval {

int64_t count_windows(int64_t num_tokens, const WindowSpec& spec) {
  const int64_t n = num_tokens / spec.seqlen;
  return spec.max_windows > 0 ? std::min(n, spec.max_windows) : n;
}

void check_windows(const WindowSpec& spec, const ModelConfig& config, int64_t num_tokens) {
  if (spec.seqlen < 2)
    throw ConfigError(fmt::format("--seqlen: must be >= 2, got {}", spec.seqlen));
  if (config.max_position_embeddings > 0 && spec.seqlen > config.max_position_embeddings)
    throw ConfigError(fmt::format(
        "--seqlen: {} exceeds the model's max_position_embeddings {}; pass --seqlen {} or less",
        spec.seqlen, config.max_position_embeddings, config.max_position_embeddings));
  if (spec.max_windows < 0)
    throw ConfigError(fmt::format("--limit-windows: must be >= 0, got {}", spec.max_windows));
  if (spec.batch_windows < 1)
    throw ConfigError(fmt::format("--batch-windows: must be >= 1, got {}", spec.batch_windows));
  if (num_tokens < spec.seqlen)
    throw DataError(
        fmt::format("corpus: {} tokens do not fill one {}-token window", num_tokens, spec.seqlen));
}

at::Tensor window_ids(std::span<const int64_t> tokens, int64_t seqlen, int64_t first,
                      int64_t count) {
  const auto begin = static_cast<size_t>(first * seqlen);
  const auto size = static_cast<size_t>(count * seqlen);
  if (begin + size > tokens.size()) throw InternalError("window_ids: window past the corpus end");
  return at::tensor(at::ArrayRef<int64_t>(tokens.data() + begin, size), at::kLong)
      .view({count, seqlen});
}

at::Tensor window_hidden(const Model& model, const at::Tensor& ids) {
  const at::Tensor on_device = ids.to(model.device());
  const AttentionContext ctx = model.attention_context(at::ones_like(on_device));
  at::Tensor hidden = model.embed(on_device);
  for (int64_t i = 0; i < model.num_layers(); ++i) hidden = model.layer(i).forward(hidden, ctx);
  return hidden;
}

at::Tensor window_logits(const Model& model, const at::Tensor& hidden, int64_t begin,
                         int64_t count) {
  return model.head(hidden.narrow(1, begin, count)).to(at::kFloat);
}

int64_t logit_chunk_positions(int64_t batch, int64_t vocab) {
  constexpr int64_t kElements = int64_t{8} << 20;  // 64 MiB of float64
  return std::max<int64_t>(1, kElements / std::max<int64_t>(1, batch * vocab));
}

}  // namespace slmq::eval
