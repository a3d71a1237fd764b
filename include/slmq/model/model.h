#pragma once
// A decoder-only transformer of any registered family (slmq/model/arch/architecture.h) on
// libtorch. Linear layers are LinearBackends addressed by their HF module names (and by role
// within a layer), so quantization can swap them.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/model/decoder_layer.h"
#include "slmq/model/kv_cache.h"
#include "slmq/model/linear_backend.h"
#include "slmq/model/model_config.h"
#include "slmq/model/rope.h"

namespace slmq {

struct ModelWeights {
  at::Tensor embed_tokens;  // [V,C]
  std::vector<DecoderLayerWeights> layers;
  at::Tensor final_norm;                   // [C]
  std::unique_ptr<LinearBackend> lm_head;  // shares embed_tokens when tied
};

// Parameter and storage totals, counting a tied embedding once.
struct ModelSummary {
  int64_t parameters = 0;
  int64_t bytes = 0;
  std::map<std::string, int64_t> bytes_by_dtype;
  std::map<std::string, int64_t> linears_by_kind;

  nlohmann::json to_json() const;
};

class Model {
 public:
  Model(ModelConfig config, ModelWeights weights, c10::ScalarType dtype, c10::Device device);

  const ModelConfig& config() const { return config_; }
  const Architecture& arch() const { return config_.arch(); }
  c10::ScalarType dtype() const { return dtype_; }
  c10::Device device() const { return device_; }

  // input_ids [B,T] int64; attention_mask [B,T] (1 = token, 0 = padding) or undefined for all
  // tokens. With a cache, the call continues the cached sequences and appends to them. Returns
  // logits [B,T,V] in the compute dtype ([B,1,V] for the last slot when last_only).
  at::Tensor forward(const at::Tensor& input_ids, const at::Tensor& attention_mask,
                     KVCache* cache = nullptr, bool last_only = false) const;

  // A cache in this model's KV storage (set_kv_storage; the compute dtype by default).
  KVCache make_cache(int64_t batch, int64_t capacity) const;
  KvStorage kv_storage() const { return kv_storage_; }
  void set_kv_storage(KvStorage storage) { kv_storage_ = storage; }

  // Block-level access for calibration (block-by-block capture, scale folding): the embedding
  // lookup, the decoder layers, the per-call attention context, and the head on final hidden
  // states. forward() == head(layer_n(...layer_0(embed(ids), ctx)...)).
  // input_ids [B,T] -> [B,T,C] compute dtype, times the family's embedding multiplier.
  at::Tensor embed(const at::Tensor& input_ids) const;
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }
  DecoderLayer& layer(int64_t index) { return layers_.at(static_cast<size_t>(index)); }
  const DecoderLayer& layer(int64_t index) const { return layers_.at(static_cast<size_t>(index)); }
  // mask [B,T] int64 on the model device (1 = token); cache may be null.
  AttentionContext attention_context(const at::Tensor& mask, KVCache* cache = nullptr) const {
    return make_context(mask, cache);
  }
  // Context for packed rows that hold several sequences (a shared prefix and the continuations
  // that branch from it): positions [B,T] int64 per token and allowed [B,T,T] bool (query, key)
  // pairs, both on the model device. Sliding windows are applied by position distance; no cache.
  AttentionContext packed_attention_context(const at::Tensor& positions,
                                            const at::Tensor& allowed) const;
  // Context for rows that are each one causal sequence from slot 0 (padding only after the last
  // token, where no real query looks): positions [B,T] int64 on the model device. Full-attention
  // layers get no mask (causal SDPA); sliding-window layers a [1,1,T,T] one. No cache.
  AttentionContext causal_attention_context(const at::Tensor& positions) const;
  // Final norm, lm_head and the family's logit soft-capping: hidden [B,T,C] -> logits [B,T,V].
  at::Tensor head(const at::Tensor& hidden) const;
  // The embedding table [V,C] and the final norm weight [C] (compute dtype), for export. The
  // table is undefined once it is quantized (set_embedding_table): use embedding_table().
  const at::Tensor& embed_tokens() const { return embed_tokens_; }
  const at::Tensor& final_norm() const { return final_norm_; }

  // --- Weight rewriting for rotation methods (QuaRot, SpinQuant) ---
  // Gives lm_head its own dense copy of a tied embedding and marks the config untied, so that
  // later edits of one do not alias the other; no-op for untied models.
  void untie_embeddings();
  // Replaces the embedding table ([V,C], converted to the compute dtype and device).
  void set_embed_tokens(const at::Tensor& weight);
  // --- A quantized embedding table (quant.quantize_embedding; llama.cpp quantizes token_embd) ---
  // Embedding rows come from `table` (a backend over [V, C]: FakeQuantLinear or its real twin,
  // weight_rows()) and the float table is freed. A null `table` makes the rows come from the
  // quantized lm_head, which then holds the only copy (the caller has checked that its weight is
  // the table: a tied model, or equal codes). Throws InternalError when the shapes differ, or
  // for a null table with a dense head.
  void set_embedding_table(std::unique_ptr<LinearBackend> table);
  // Where quantized rows come from: the own table, the tied head, or null (a plain tensor).
  const LinearBackend* embedding_backend() const;
  // The own quantized table's slot (backend choice swaps it); null when there is none.
  std::unique_ptr<LinearBackend>* embedding_slot() {
    return embedding_q_ ? &embedding_q_ : nullptr;
  }
  // [V, C] in the compute dtype: the plain table, or the quantized one dequantized (exporters;
  // allocates the float table).
  at::Tensor embedding_table() const;
  // Row `id` as float32 into out [C], without the embedding multiplier (the decode loop).
  void embedding_row_into(int64_t id, float* out) const;

  // The final norm's effective per-channel multiplier (fp32 [C]) and its setter, with the
  // semantics of DecoderLayer::norm_gain / set_norm_gain.
  at::Tensor final_norm_gain() const;
  void set_final_norm_gain(const at::Tensor& gain);

  // Every linear layer, keyed by HF module name ("model.layers.0.self_attn.q_proj", "lm_head").
  std::vector<std::pair<std::string, std::unique_ptr<LinearBackend>*>> linears();
  // The same, read-only.
  std::vector<std::pair<std::string, const LinearBackend*>> linears() const;
  // (layer index, role) of a decoder-layer linear's HF module name; nullopt for lm_head and
  // names that are not this model's.
  std::optional<std::pair<int64_t, LinearRole>> locate_linear(const std::string& name) const;
  ModelSummary summary() const;

 private:
  AttentionContext make_context(const at::Tensor& mask, KVCache* cache) const;
  // cos/sin of every RoPE of the model for positions [B,T].
  std::vector<std::pair<at::Tensor, at::Tensor>> rope_tables(const at::Tensor& positions) const;

  ModelConfig config_;
  c10::ScalarType dtype_;
  c10::Device device_;
  KvStorage kv_storage_ = KvStorage::kCompute;
  at::Tensor embed_tokens_;                     // undefined once quantized
  std::unique_ptr<LinearBackend> embedding_q_;  // the own quantized table, or null
  bool embed_from_head_ = false;                // rows from the tied, quantized lm_head
  std::vector<DecoderLayer> layers_;
  at::Tensor final_norm_;
  std::unique_ptr<LinearBackend> lm_head_;
  std::vector<RotaryEmbedding> ropes_;  // [0] global; [1] the sliding layers' own, if any
};

}  // namespace slmq
