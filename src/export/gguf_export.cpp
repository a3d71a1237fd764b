// The GGUF export: the model's tensors under llama.cpp's names (from the family's tables), its
// hyper-parameters (from the family) and tokenizer, written by io::GgufWriter.
#include "slmq/export/gguf_export.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <map>

#include "gguf_blocks.h"
#include "gguf_tokenizer_export.h"
#include "slmq/core/error.h"
#include "slmq/io/gguf_writer.h"
#include "slmq/quant/fake_quant_linear.h"
#include "slmq/quant/rotation/online_hadamard.h"

namespace slmq {
namespace {

using gguf_export::EncodedTensor;

// llama_ftype values (general.file_type) for the type most linears have.
std::uint32_t file_type_of(io::GgmlType t) {
  switch (t) {
    case io::GgmlType::kF32:
      return 0;
    case io::GgmlType::kF16:
      return 1;
    case io::GgmlType::kQ4_0:
      return 2;
    case io::GgmlType::kQ4_1:
      return 3;
    case io::GgmlType::kQ8_0:
      return 7;
    case io::GgmlType::kBF16:
      return 32;
    default:
      return 0;
  }
}

class Exporter {
 public:
  Exporter(const Model& model, const GgufExportOptions& options)
      : model_(model), m_(model.config()), arch_(model.arch()), options_(options) {}

  void run(io::GgufWriter& w, GgufExportReport& report) {
    // A quantized embedding table is written in its own codes, as llama.cpp's quantized
    // token_embd (whose rows get_rows dequantizes).
    if (const LinearBackend* table = model_.embedding_backend()) {
      add_linear(w, report, "model.embed_tokens", "token_embd", *table);
    } else {
      add(w, report, "token_embd.weight",
          gguf_export::encode_dense(model_.embed_tokens(), options_.dense_type, {}));
    }
    std::map<std::string, const LinearBackend*> linears;
    for (const auto& [name, linear] : model_.linears()) linears[name] = linear;
    const float offset = arch_.gguf_norm_offset();
    for (int64_t i = 0; i < model_.num_layers(); ++i) {
      if (const AttentionTransform* t = model_.layer(i).attention_transform()) {
        throw UnsupportedError(fmt::format(
            "GGUF export: layer {} has an attention transform ({}) that llama.cpp cannot run", i,
            t->describe()));
      }
      const std::string hf = fmt::format("model.layers.{}.", i);
      const std::string gg = fmt::format("blk.{}.", i);
      const auto& lw = model_.layer(i).weights();
      for (const NormName& n : arch_.norm_names()) {
        add(w, report, gg + n.gguf + ".weight",
            gguf_export::encode_dense(lw.norm(n.role), io::GgmlType::kF32, {}, offset));
      }
      for (const LinearName& l : arch_.linear_names()) {
        if (l.gguf.empty()) continue;  // stored fused
        add_linear(w, report, hf + l.hf, gg + l.gguf, *linears.at(hf + l.hf));
      }
      for (const FusedName& f : arch_.fused_names()) {
        std::vector<EncodedTensor> weights, biases;
        for (LinearRole role : f.parts) {
          const std::string name = hf + arch_.hf_name(role);
          auto [wt, b] = encode_linear(name, gg + f.gguf, *linears.at(name));
          weights.push_back(std::move(wt));
          if (b) biases.push_back(std::move(*b));
        }
        add(w, report, gg + f.gguf + ".weight",
            gguf_export::stack_rows(std::move(weights), gg + f.gguf));
        if (!biases.empty())
          add(w, report, gg + f.gguf + ".bias",
              gguf_export::stack_rows(std::move(biases), gg + f.gguf + ".bias"));
      }
    }
    add(w, report, "output_norm.weight",
        gguf_export::encode_dense(model_.final_norm(), io::GgmlType::kF32, {}, offset));
    const LinearBackend& head = *linears.at("lm_head");
    // A tied head that stayed dense, or whose quantized table the embedding shares, is
    // token_embd; llama.cpp reuses token_embd when output.weight is absent.
    const bool head_is_token_embd =
        m_.tie_word_embeddings && (head.kind() == "dense" || model_.embedding_backend() == &head);
    if (!head_is_token_embd) add_linear(w, report, "lm_head", "output", head);
    w.set_u32("general.file_type", file_type_of(most_common_linear_type()));
  }

 private:
  std::pair<EncodedTensor, std::optional<EncodedTensor>> encode_linear(
      const std::string& hf_name, const std::string& gguf_prefix, const LinearBackend& wrapped) {
    const LinearBackend& linear = unwrap_online(wrapped);
    if (&linear != &wrapped) {
      throw UnsupportedError(fmt::format(
          "GGUF export: '{}' has an online rotation (QuaRot/SpinQuant) that llama.cpp cannot run",
          hf_name));
    }
    const auto order = arch_.gguf_row_order(hf_name + ".weight", m_, linear.out_features());
    at::Tensor bias;
    EncodedTensor weight;
    if (const auto* dense = dynamic_cast<const DenseLinear*>(&linear)) {
      weight = gguf_export::encode_dense(dense->weight(), options_.dense_type, order);
      bias = dense->bias();
    } else if (const auto* fq = dynamic_cast<const FakeQuantLinear*>(&linear)) {
      weight = gguf_export::encode_quantized(fq->packed_weight(), order, options_.requantize,
                                             gguf_prefix + ".weight");
      if (fq->activation() || fq->output_quantizer()) activation_quantized_.push_back(hf_name);
      bias = fq->bias();
    } else {
      throw UnsupportedError(fmt::format(
          "GGUF export: '{}' is a '{}' linear; export from the fake-quant backend (--backend fake)",
          hf_name, linear.kind()));
    }
    linear_types_[weight.type] += 1;
    std::optional<EncodedTensor> b;
    if (bias.defined()) b = gguf_export::encode_dense(bias, io::GgmlType::kF32, order);
    return {std::move(weight), std::move(b)};
  }

  void add_linear(io::GgufWriter& w, GgufExportReport& report, const std::string& hf_name,
                  const std::string& gguf_prefix, const LinearBackend& linear) {
    auto [weight, bias] = encode_linear(hf_name, gguf_prefix, linear);
    add(w, report, gguf_prefix + ".weight", std::move(weight));
    if (bias) add(w, report, gguf_prefix + ".bias", std::move(*bias));
  }

  void add(io::GgufWriter& w, GgufExportReport& report, const std::string& name, EncodedTensor t) {
    report.tensors.push_back(
        {name, std::string(io::ggml_traits(t.type).name), t.mapping, t.relative_error});
    if (!t.note.empty()) report.notes.push_back(t.note);
    w.add_tensor(name, t.type, t.shape, std::move(t.bytes));
  }

  io::GgmlType most_common_linear_type() const {
    io::GgmlType best = options_.dense_type;
    int count = 0;
    for (const auto& [type, n] : linear_types_) {
      if (n > count) {
        best = type;
        count = n;
      }
    }
    return best;
  }

 public:
  std::vector<std::string> activation_quantized_;

 private:
  const Model& model_;
  const ModelConfig& m_;
  const Architecture& arch_;
  const GgufExportOptions& options_;
  std::map<io::GgmlType, int> linear_types_;
};

}  // namespace

GgufExportReport export_gguf(const Model& model, const ModelSource& source,
                             const std::filesystem::path& out, const GgufExportOptions& options) {
  if (options.dense_type != io::GgmlType::kF32 && options.dense_type != io::GgmlType::kF16 &&
      options.dense_type != io::GgmlType::kBF16)
    throw InternalError("GGUF export: dense type must be F32, F16 or BF16");
  GgufExportReport report;
  report.path = out;
  report.architecture = model.arch().gguf_export_name();
  io::GgufWriter w;
  w.set_string("general.architecture", report.architecture);
  std::string name = options.name;
  if (name.empty()) name = source.path.filename().replace_extension().string();
  w.set_string("general.name", name);
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", 0);  // set once the linears are encoded
  model.arch().gguf_export_metadata(model.config(), w, report.notes);
  gguf_export::add_tokenizer(source, model.config(), w);
  Exporter exporter(model, options);
  exporter.run(w, report);
  if (!exporter.activation_quantized_.empty()) {
    report.notes.push_back(fmt::format(
        "{} linears quantize their inputs in slmquant (e.g. '{}'); GGUF stores weights only and "
        "llama.cpp quantizes activations its own way",
        exporter.activation_quantized_.size(), exporter.activation_quantized_.front()));
  }
  w.write(out);
  return report;
}

nlohmann::json GgufExportReport::to_json() const {
  nlohmann::json tensors_json = nlohmann::json::array();
  std::map<std::string, int> by_mapping;
  double max_quantized_error = 0.0;
  for (const auto& t : tensors) {
    tensors_json.push_back({{"name", t.name},
                            {"type", t.type},
                            {"mapping", t.mapping},
                            {"relative_error", t.relative_error}});
    by_mapping[t.mapping] += 1;
    if (t.mapping != "dense") max_quantized_error = std::max(max_quantized_error, t.relative_error);
  }
  return {{"path", path.string()},
          {"architecture", architecture},
          {"tensors_by_mapping", by_mapping},
          {"max_relative_error_quantized", max_quantized_error},
          {"notes", notes},
          {"tensors", tensors_json}};
}

io::GgmlType parse_gguf_dense_type(const std::string& name, const std::string& key) {
  if (name == "f32" || name == "float32") return io::GgmlType::kF32;
  if (name == "f16" || name == "float16") return io::GgmlType::kF16;
  if (name == "bf16" || name == "bfloat16") return io::GgmlType::kBF16;
  throw ConfigError(fmt::format("{}: '{}' is not a GGUF dense type (f32, f16, bf16)", key, name));
}

}  // namespace slmq
