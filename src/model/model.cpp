#include "slmq/model/model.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <set>

#include "slmq/core/dtype.h"
#include "slmq/core/error.h"

namespace slmq {
namespace {

// The distinct sliding windows of the layers (0 = full attention): one mask is built for each.
std::set<int64_t> attention_windows(const std::vector<DecoderLayer>& layers) {
  std::set<int64_t> windows;
  for (const auto& layer : layers) windows.insert(layer.sliding_window().value_or(0));
  return windows;
}

}  // namespace

Model::Model(ModelConfig config, ModelWeights weights, c10::ScalarType dtype, c10::Device device)
    : config_(std::move(config)),
      dtype_(dtype),
      device_(device),
      embed_tokens_(std::move(weights.embed_tokens)),
      final_norm_(std::move(weights.final_norm)),
      lm_head_(std::move(weights.lm_head)) {
  ropes_.emplace_back(config_.rope, config_.head_dim, device);
  if (config_.local_rope) ropes_.emplace_back(*config_.local_rope, config_.head_dim, device);
  for (size_t i = 0; i < weights.layers.size(); ++i)
    layers_.emplace_back(static_cast<int64_t>(i), std::move(weights.layers[i]), config_);
}

std::vector<std::pair<at::Tensor, at::Tensor>> Model::rope_tables(
    const at::Tensor& positions) const {
  std::vector<std::pair<at::Tensor, at::Tensor>> out;
  for (const auto& rope : ropes_) out.push_back(rope.cos_sin(positions, dtype_));
  return out;
}

KVCache Model::make_cache(int64_t batch, int64_t capacity) const {
  return KVCache(config_, batch, capacity, dtype_, device_, kv_storage_);
}

// Positions count real tokens only (cumsum of the mask), continuing from the cache, as
// transformers' generate() derives position_ids. A query may attend a key at or before its own
// slot that holds a real token and lies within the layer's window; every query also attends to
// itself, so padding rows never see an empty softmax (their outputs are ignored).
AttentionContext Model::make_context(const at::Tensor& mask, KVCache* cache) const {
  const int64_t steps = mask.size(1);
  const int64_t past = cache ? cache->length() : 0;
  at::Tensor positions = mask.cumsum(1) - 1;
  if (cache) positions = positions + cache->next_position().unsqueeze(1);
  positions = positions.masked_fill(mask == 0, 1);

  AttentionContext ctx;
  ctx.cache = cache;
  ctx.rope = rope_tables(positions);
  at::Tensor key_valid = mask.to(at::kBool);
  if (cache) key_valid = at::cat({cache->valid(), key_valid}, 1);
  auto idx = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor q_slot = at::arange(past, past + steps, idx).unsqueeze(1);  // [T,1]
  at::Tensor k_slot = at::arange(0, past + steps, idx).unsqueeze(0);     // [1,S]
  at::Tensor causal = k_slot <= q_slot;
  at::Tensor self = (k_slot == q_slot).unsqueeze(0).unsqueeze(0);
  at::Tensor valid = key_valid.unsqueeze(1).unsqueeze(1);  // [B,1,1,S]
  for (int64_t window : attention_windows(layers_)) {
    at::Tensor allowed = window > 0 ? causal.logical_and((q_slot - k_slot) < window) : causal;
    ctx.masks[window] = allowed.unsqueeze(0).unsqueeze(0).logical_and(valid).logical_or(self);
  }
  return ctx;
}

AttentionContext Model::packed_attention_context(const at::Tensor& positions,
                                                 const at::Tensor& allowed) const {
  AttentionContext ctx;
  ctx.rope = rope_tables(positions);
  for (int64_t window : attention_windows(layers_)) {
    at::Tensor mask = allowed;
    if (window > 0) {
      at::Tensor distance = positions.unsqueeze(2) - positions.unsqueeze(1);  // [B,T,T]
      mask = mask.logical_and(distance < window);
    }
    ctx.masks[window] = mask.unsqueeze(1);
  }
  return ctx;
}

AttentionContext Model::causal_attention_context(const at::Tensor& positions) const {
  AttentionContext ctx;
  ctx.rope = rope_tables(positions);
  auto idx = at::TensorOptions().dtype(at::kLong).device(device_);
  at::Tensor slot = at::arange(positions.size(1), idx);
  at::Tensor distance = slot.unsqueeze(1) - slot.unsqueeze(0);  // [T,T] query - key
  for (int64_t window : attention_windows(layers_)) {
    ctx.masks[window] =
        window > 0 ? distance.ge(0).logical_and(distance < window).unsqueeze(0).unsqueeze(0)
                   : at::Tensor();
  }
  return ctx;
}

at::Tensor Model::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                          KVCache* cache, bool last_only) const {
  c10::InferenceMode guard;
  if (input_ids.dim() != 2) throw InternalError("Model::forward: input_ids must be [B,T]");
  at::Tensor ids = input_ids.to(device_);
  at::Tensor mask = attention_mask.defined() ? attention_mask.to(device_).to(at::kLong)
                                             : at::ones_like(ids, ids.options().dtype(at::kLong));
  if (cache && cache->batch() != ids.size(0))
    throw InternalError("KV cache batch size differs from the input");
  AttentionContext ctx = make_context(mask, cache);
  at::Tensor hidden = embed(ids);
  for (const auto& layer : layers_) hidden = layer.forward(hidden, ctx);
  if (cache) cache->commit(mask);
  if (last_only) hidden = hidden.narrow(1, hidden.size(1) - 1, 1);
  return head(hidden);
}

at::Tensor Model::embed(const at::Tensor& input_ids) const {
  const LinearBackend* table = embedding_backend();
  at::Tensor h = table != nullptr ? table->weight_rows(input_ids.to(device_)).to(dtype_)
                                  : at::embedding(embed_tokens_, input_ids.to(device_));
  if (!config_.embedding_multiplier) return h;
  // Gemma casts the multiplier to the weight dtype first (sqrt(640) = 25.298 is 25.25 in bf16).
  return h * at::scalar_tensor(*config_.embedding_multiplier, at::kFloat).to(h.scalar_type());
}

at::Tensor Model::head(const at::Tensor& hidden) const {
  at::Tensor x = config_.norm_kind == NormKind::kRms
                     ? rms_norm(hidden, final_norm_, config_.rms_norm_eps)
                     : rms_norm_one_plus(hidden, final_norm_, config_.rms_norm_eps);
  at::Tensor logits = lm_head_->forward(x);
  if (config_.final_logit_softcapping) {
    const double cap = *config_.final_logit_softcapping;
    logits = at::tanh(logits / cap) * cap;
  }
  return logits;
}

void Model::set_embedding_table(std::unique_ptr<LinearBackend> table) {
  if (table == nullptr) {
    if (lm_head_->kind() == "dense")
      throw InternalError("only a quantized lm_head can be shared as the embedding table");
  } else if (table->out_features() != config_.vocab_size ||
             table->in_features() != config_.hidden_size) {
    throw InternalError("quantized embedding table shape differs from [vocab, hidden]");
  }
  embedding_q_ = std::move(table);
  embed_from_head_ = embedding_q_ == nullptr;
  embed_tokens_ = at::Tensor();
}

const LinearBackend* Model::embedding_backend() const {
  if (embed_from_head_) return lm_head_.get();
  return embedding_q_.get();
}

at::Tensor Model::embedding_table() const {
  if (embed_tokens_.defined()) return embed_tokens_;
  at::Tensor ids = at::arange(config_.vocab_size, at::TensorOptions().dtype(at::kLong));
  return embedding_backend()->weight_rows(ids.to(device_)).to(dtype_);
}

void Model::embedding_row_into(int64_t id, float* out) const {
  if (const LinearBackend* table = embedding_backend()) return table->weight_row_into(id, out);
  if (embed_tokens_.scalar_type() != at::kFloat || !embed_tokens_.device().is_cpu())
    throw InternalError("embedding_row_into needs a float32 CPU table");
  const float* row = embed_tokens_.data_ptr<float>() + id * config_.hidden_size;
  std::copy(row, row + config_.hidden_size, out);
}

void Model::untie_embeddings() {
  if (!config_.tie_word_embeddings) return;
  if (!embed_tokens_.defined())
    throw InternalError("untie_embeddings: the embedding table is quantized");
  lm_head_ = std::make_unique<DenseLinear>(embed_tokens_.clone(), at::Tensor());
  config_.tie_word_embeddings = false;
}

void Model::set_embed_tokens(const at::Tensor& weight) {
  if (!embed_tokens_.defined())
    throw InternalError("set_embed_tokens: the embedding table is quantized");
  embed_tokens_ = weight.to(device_, dtype_).contiguous();
}

at::Tensor Model::final_norm_gain() const {
  at::Tensor w = final_norm_.to(at::kFloat);
  return config_.norm_kind == NormKind::kRms ? w : w + 1.0;
}

void Model::set_final_norm_gain(const at::Tensor& gain) {
  at::Tensor g = gain.to(at::kFloat).to(final_norm_.device());
  final_norm_ = (config_.norm_kind == NormKind::kRms ? g : g - 1.0).to(final_norm_.scalar_type());
}

std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> Model::linears() {
  std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> out;
  for (size_t i = 0; i < layers_.size(); ++i) {
    for (auto& [name, slot] : layers_[i].linears()) {
      out.emplace_back("model.layers." + std::to_string(i) + "." + name, slot);
    }
  }
  out.emplace_back("lm_head", &lm_head_);
  return out;
}

std::vector<std::pair<std::string, const LinearBackend*>> Model::linears() const {
  std::vector<std::pair<std::string, const LinearBackend*>> out;
  // The mutable overload only hands out slots; nothing is modified here.
  for (auto& [name, slot] : const_cast<Model*>(this)->linears())
    out.emplace_back(name, slot->get());
  return out;
}

std::optional<std::pair<int64_t, LinearRole>> Model::locate_linear(const std::string& name) const {
  static const std::string kPrefix = "model.layers.";
  if (name.rfind(kPrefix, 0) != 0) return std::nullopt;
  const size_t dot = name.find('.', kPrefix.size());
  if (dot == std::string::npos) return std::nullopt;
  int64_t index = 0;
  for (size_t i = kPrefix.size(); i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    index = index * 10 + (name[i] - '0');
    if (index >= num_layers()) return std::nullopt;
  }
  if (dot == kPrefix.size()) return std::nullopt;
  const auto role = layers_[static_cast<size_t>(index)].linear_role(name.substr(dot + 1));
  if (!role) return std::nullopt;
  return std::make_pair(index, *role);
}

nlohmann::json ModelSummary::to_json() const {
  return {{"parameters", parameters},
          {"bytes", bytes},
          {"bytes_by_dtype", bytes_by_dtype},
          {"linears_by_kind", linears_by_kind}};
}

ModelSummary Model::summary() const {
  ModelSummary s;
  auto add_tensor = [&](const at::Tensor& t) {
    s.parameters += t.numel();
    s.bytes += static_cast<int64_t>(t.nbytes());
    s.bytes_by_dtype[dtype_name(t.scalar_type())] += static_cast<int64_t>(t.nbytes());
  };
  auto add_linear = [&](const LinearBackend& l) {
    s.parameters += l.parameters();
    for (const auto& t : l.stored_tensors()) {
      s.bytes += static_cast<int64_t>(t.nbytes());
      s.bytes_by_dtype[dtype_name(t.scalar_type())] += static_cast<int64_t>(t.nbytes());
    }
    s.linears_by_kind[l.kind()] += 1;
  };
  if (embed_tokens_.defined()) {
    add_tensor(embed_tokens_);
  } else {
    // Quantized: V·C parameters; bytes of an own table here, of a shared one with the head below.
    s.parameters += config_.vocab_size * config_.hidden_size;
    for (const auto& t :
         embedding_q_ ? embedding_q_->stored_tensors() : std::vector<at::Tensor>{}) {
      s.bytes += static_cast<int64_t>(t.nbytes());
      s.bytes_by_dtype[dtype_name(t.scalar_type())] += static_cast<int64_t>(t.nbytes());
    }
  }
  add_tensor(final_norm_);
  for (const auto& layer : layers_) {
    const auto& w = layer.weights();
    for (const auto& norm : w.norms)
      if (norm.defined()) add_tensor(norm);
    for (const auto& linear : w.linears) add_linear(*linear);
  }
  if (!config_.tie_word_embeddings) {
    add_linear(*lm_head_);
  } else if (lm_head_->kind() != "dense") {
    // A quantized tied head no longer shares the embedding's storage: count its bytes (its
    // parameters are the embedding's, already counted).
    const int64_t parameters = s.parameters;
    add_linear(*lm_head_);
    s.parameters = parameters;
  }
  return s;
}

}  // namespace slmq
