#include "slmq/quant/embedding_quant.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "slmq/core/error.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/packed_weight.h"
#include "slmq/quant/quant_method.h"

namespace slmq {
namespace {

const FakeQuantLinear* fake_head(Model& model) {
  for (const auto& [name, slot] : model.linears())
    if (name == "lm_head") return dynamic_cast<const FakeQuantLinear*>(slot->get());
  return nullptr;
}

// The head's codes, scales and zero points equal `table`'s: it is the same quantized table.
bool same_codes(const PackedWeight& a, const PackedWeight& b) {
  return a.spec.bits == b.spec.bits && a.data.sizes() == b.data.sizes() && a.data.equal(b.data) &&
         a.scales.equal(b.scales) && a.zeros.equal(b.zeros);
}

}  // namespace

std::optional<std::string> embedding_unsupported_reason(const Model& model,
                                                        const QuantConfig& config) noexcept {
  if (!config.quantize_embedding) return std::nullopt;
  if (model.embedding_backend() != nullptr)
    return std::string("the embedding is already quantized");
  if (model.config().tie_word_embeddings && !config.quantize_lm_head) {
    return std::string(
        "quantize_embedding: the tied embedding is lm_head's weight, which stays in full "
        "precision; set quantize_lm_head: true as well");
  }
  const QuantSpec& w = config.scheme.weight;
  if (w.granularity == Granularity::kPerGroup && model.config().hidden_size % w.group_size != 0) {
    return "quantize_embedding: group size " + std::to_string(w.group_size) +
           " does not divide the hidden size " + std::to_string(model.config().hidden_size);
  }
  return std::nullopt;
}

nlohmann::json quantize_embedding(Model& model, const QuantConfig& config) {
  if (!config.quantize_embedding) return nullptr;
  if (auto reason = embedding_unsupported_reason(model, config)) throw UnsupportedError(*reason);
  c10::InferenceMode guard;
  const at::Tensor table = model.embed_tokens();
  const int64_t bytes_before = static_cast<int64_t>(table.nbytes());
  QuantizedWeight q = quantize_weight(table, config.scheme.weight);
  const double relative_error =
      weight_error_stats("model.embed_tokens", table, dequantize(q)).relative_error;
  auto own = std::make_unique<FakeQuantLinear>(std::move(q), at::Tensor(), model.dtype());
  nlohmann::json out = {{"relative_error", relative_error}, {"bytes_before", bytes_before}};
  const FakeQuantLinear* head = fake_head(model);
  // A tied head quantized with the same spec holds exactly these codes (RTN of the same
  // tensor): share them rather than keep a second copy. Checked, not assumed, since a method
  // may have quantized the head otherwise.
  if (model.config().tie_word_embeddings && head != nullptr &&
      same_codes(head->packed_weight(), own->packed_weight())) {
    model.set_embedding_table(nullptr);
    out["storage"] = "shared_with_lm_head";
    out["bytes_after"] = 0;
  } else {
    out["storage"] = "own";
    out["bytes_after"] = own->bytes();
    model.set_embedding_table(std::move(own));
  }
  return out;
}

}  // namespace slmq
