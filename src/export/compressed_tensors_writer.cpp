#include <ATen/ATen.h>
#include <fmt/format.h>

#include "slmq/core/atomic_file.h"
#include "slmq/core/dtype.h"
#include "slmq/core/error.h"
#include "slmq/export/atomic_folder.h"
#include "slmq/export/compressed_tensors.h"
#include "slmq/export/compressed_tensors_scheme.h"
#include "slmq/io/safetensors.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/kv_quant.h"
#include "slmq/quant/rotation/online_hadamard.h"
#include "slmq/quant/rotation/online_transforms_json.h"

namespace slmq {
namespace {

using TensorList = std::vector<std::pair<std::string, at::Tensor>>;

// compressed-tensors' version whose layout (dense int32 packing, argument names) this writes.
constexpr const char* kCtVersion = "0.20.0";

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  write_file_atomically(path,
                        j.dump(2, ' ', false, nlohmann::json::error_handler_t::strict) + "\n");
}

// The quantized linears sharing one (weights, input_activations) pair form a config group.
struct Group {
  nlohmann::json weights, input_activations;
  std::vector<std::string> targets;
};

class CheckpointBuilder {
 public:
  void add(const std::string& name, const at::Tensor& t) {
    tensors_.emplace_back(name, t.detach().to(at::kCPU).contiguous());
  }

  void add_linear(const std::string& prefix, const LinearBackend& wrapped) {
    // Online rotations (QuaRot/SpinQuant) are declared in config.json, not stored per linear.
    const LinearBackend& linear = unwrap_online(wrapped);
    if (const auto* dense = dynamic_cast<const DenseLinear*>(&linear)) {
      add(prefix + ".weight", dense->weight());
      if (dense->bias().defined()) add(prefix + ".bias", dense->bias());
      dense_linears_.push_back(prefix);
      return;
    }
    const auto* fq = dynamic_cast<const FakeQuantLinear*>(&linear);
    if (fq == nullptr) {
      throw UnsupportedError(fmt::format(
          "{}: a '{}' linear cannot be written as compressed-tensors", prefix, linear.kind()));
    }
    add_quantized(prefix, *fq);
  }

  nlohmann::json quantization_config() const {
    // One group targets the Linear class, the dense linears being ignored; several groups
    // target their layers by name.
    nlohmann::json groups = nlohmann::json::object();
    std::string format;
    for (size_t i = 0; i < groups_.size(); ++i) {
      const Group& g = groups_[i];
      const std::string group_format = ct::format_for(!g.input_activations.is_null());
      format = format.empty() || format == group_format ? group_format : "mixed-precision";
      groups[fmt::format("group_{}", i)] = {
          {"targets",
           groups_.size() == 1 ? nlohmann::json::array({"Linear"}) : nlohmann::json(g.targets)},
          {"weights", g.weights},
          {"input_activations", g.input_activations},
          {"output_activations", nullptr},
          {"format", group_format}};
    }
    return {{"quant_method", "compressed-tensors"},
            {"version", kCtVersion},
            {"config_groups", groups},
            {"format", format},
            {"ignore", groups_.size() == 1 ? dense_linears_ : std::vector<std::string>()},
            {"quantization_status", "compressed"},
            {"kv_cache_scheme", nullptr},
            {"global_compression_ratio", nullptr},
            {"sparsity_config", nlohmann::json::object()},
            {"transform_config", nlohmann::json::object()}};
  }

  // A dense linear written elsewhere (a tied head is the embedding): still to be ignored.
  void ignore(const std::string& prefix) { dense_linears_.push_back(prefix); }
  bool any_quantized() const { return !groups_.empty(); }
  const TensorList& tensors() const { return tensors_; }

 private:
  void add_quantized(const std::string& prefix, const FakeQuantLinear& fq) {
    const PackedWeight& w = fq.packed_weight();
    ct::CtWeight ctw = ct::to_ct_weight(w, prefix);
    nlohmann::json act =
        fq.activation() ? ct::activation_args(*fq.activation(), prefix) : nlohmann::json();
    group_of(ct::weight_args(w.spec, ctw.symmetric), act).targets.push_back(prefix);
    if (act.is_null()) {
      // pack-quantized: the in-memory words already hold codes − min = ct codes + 2^(b−1).
      add(prefix + ".weight_packed", w.packed() ? w.data : ct::pack_codes(ctw.codes, w.spec.bits));
      add(prefix + ".weight_shape", at::tensor({w.out_features, w.in_features}, at::kLong));
      if (!ctw.symmetric)
        add(prefix + ".weight_zero_point", ct::pack_zero_points(ctw.zeros, w.spec));
    } else {
      add(prefix + ".weight", ctw.codes);
      if (!ctw.symmetric) add(prefix + ".weight_zero_point", ctw.zeros);
    }
    add(prefix + ".weight_scale", ctw.scales);
    if (fq.bias().defined()) add(prefix + ".bias", fq.bias());
  }

  Group& group_of(const nlohmann::json& weights, const nlohmann::json& act) {
    for (auto& g : groups_) {
      if (g.weights == weights && g.input_activations == act) return g;
    }
    groups_.push_back({weights, act, {}});
    return groups_.back();
  }

  TensorList tensors_;
  std::vector<std::string> dense_linears_;
  std::vector<Group> groups_;
};

}  // namespace

void export_compressed_tensors(const Model& model, const ModelSource& source,
                               const std::filesystem::path& out,
                               const std::map<std::string, std::string>& extra_files) {
  CheckpointBuilder b;
  // A quantized table (quant.quantize_embedding) is written dequantized: compressed-tensors can
  // quantize an Embedding, but transformers (5.17) cannot load one (its weight initialisation
  // reads Embedding.weight, which a pack-quantized module no longer has). Same values, so the
  // same logits; the float size comes back on load.
  b.add("model.embed_tokens.weight", model.embedding_table());
  std::map<std::string, const LinearBackend*> linears;
  for (const auto& [name, linear] : model.linears()) linears[name] = linear;
  const Architecture& arch = model.arch();
  if (!arch.fused_names().empty()) {
    throw UnsupportedError(
        fmt::format("compressed-tensors export of {} is not supported: its checkpoints store fused "
                    "projections ({}), and slmquant does not yet write quantized fused tensors",
                    arch.hf_names().front(), arch.fused_names().front().hf));
  }
  for (int64_t i = 0; i < model.num_layers(); ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    // Transforms inside attention have no place in the compressed-tensors config. slmquant's
    // R3 and KV quantizers (KvQuantTransform) are declared under kOnlineTransformsKey and put
    // back on load; any other (OmniQuant's Q/K/V quantizers) would be lost, and a checkpoint
    // without it would not compute what the model does.
    const AttentionTransform* t = model.layer(i).attention_transform();
    if (t != nullptr && dynamic_cast<const KvQuantTransform*>(t) == nullptr) {
      throw UnsupportedError(fmt::format(
          "compressed-tensors export: layer {} has an attention transform ({}) that the format "
          "cannot store",
          i, t->describe()));
    }
    const auto& w = model.layer(i).weights();
    for (const NormName& n : arch.norm_names()) b.add(p + n.hf + ".weight", w.norm(n.role));
    for (const LinearName& l : arch.linear_names()) b.add_linear(p + l.hf, *linears.at(p + l.hf));
  }
  b.add("model.norm.weight", model.final_norm());
  const LinearBackend& head = *linears.at("lm_head");
  // A tied head that stayed dense is the embedding; a quantized one is stored on its own.
  const bool tied = model.config().tie_word_embeddings && head.kind() == "dense";
  if (tied) {
    b.ignore("lm_head");
  } else {
    b.add_linear("lm_head", head);
  }
  if (!b.any_quantized()) {
    throw UnsupportedError(
        "the model has no quantized linear; quantize it first (or use "
        "`slmquant convert` for a full-precision checkpoint)");
  }

  nlohmann::json config = source.hf_config;
  config["dtype"] = dtype_name(model.dtype());
  config.erase("torch_dtype");
  config["tie_word_embeddings"] = tied;
  config["quantization_config"] = b.quantization_config();
  const nlohmann::json online = describe_online_transforms(model);
  if (online.is_null()) {
    config.erase(kOnlineTransformsKey);
  } else {
    config[kOnlineTransformsKey] = online;
  }

  AtomicFolder folder(out);
  write_json(folder.path() / "config.json", config);
  if (!source.tokenizer.is_null()) write_json(folder.path() / "tokenizer.json", source.tokenizer);
  if (!source.tokenizer_config.is_null())
    write_json(folder.path() / "tokenizer_config.json", source.tokenizer_config);
  for (const auto& [name, content] : extra_files)
    write_file_atomically(folder.path() / name, content);
  write_safetensors(folder.path() / "model.safetensors", b.tensors(), {{"format", "pt"}});
  folder.commit();
}

}  // namespace slmq
