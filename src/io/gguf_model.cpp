// load_gguf_model_files: the GGUF file as HF checkpoint pieces (see gguf_model.h).
#include <fmt/format.h>

#include "slmq/core/error.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
namespace {

// Heads whose rows llama.cpp permuted in this tensor; 0 when it is stored as in HF.
std::int64_t permuted_heads(const GgufFile& file, const nlohmann::json& config,
                            const std::string& gguf_name) {
  // Only the "llama" converter permutes (Qwen2 keeps HF's layout, as transformers assumes).
  if (file.get_string("general.architecture") != "llama") return 0;
  if (gguf_name.find(".attn_q.") != std::string::npos) {
    return config["num_attention_heads"].get<std::int64_t>();
  }
  if (gguf_name.find(".attn_k.") != std::string::npos) {
    return config["num_key_value_heads"].get<std::int64_t>();
  }
  return 0;
}

GgufWeight make_weight(const std::shared_ptr<const GgufFile>& file, const GgufTensorInfo& info,
                       std::int64_t n_head) {
  if (!can_dequantize(info.type)) {
    throw UnsupportedError(fmt::format("GGUF '{}': tensor '{}': dequantizing {} is not supported",
                                       file->path().string(), info.name,
                                       ggml_traits(info.type).name));
  }
  GgufWeight w{info.name, info.type, info.shape(), {}};
  const std::int64_t rows = w.shape.front();
  const std::int64_t cols = info.n_elements / rows;
  if (n_head > 0 && rows % (2 * n_head) != 0) {
    throw DataError(fmt::format("GGUF '{}': tensor '{}': {} rows cannot be split into {} heads",
                                file->path().string(), info.name, rows, n_head));
  }
  const GgufTensorInfo* p = &info;  // stable: the file's tensor list never changes after open
  w.load = [file, p, rows, cols, n_head] {
    std::vector<float> data = file->dequantize(*p);
    if (n_head > 0) unpermute_qk_rows(data, rows, cols, n_head);
    return data;
  };
  return w;
}

}  // namespace

GgufModelFiles load_gguf_model_files(const std::filesystem::path& path) {
  GgufModelFiles out;
  auto file = std::make_shared<const GgufFile>(GgufFile::open(path));
  out.file = file;
  out.config = gguf_to_hf_config(*file);
  out.tokenizer = gguf_to_hf_tokenizer(*file);
  out.tokenizer_config = gguf_to_hf_tokenizer_config(*file);
  for (const auto& info : file->tensors()) {
    const std::string hf = gguf_to_hf_tensor_name(info.name);
    if (hf.empty()) {
      throw UnsupportedError(
          fmt::format("GGUF '{}': tensor '{}' has no Hugging Face counterpart "
                      "in the supported architectures",
                      path.string(), info.name));
    }
    out.weights.emplace(hf, make_weight(file, info, permuted_heads(*file, out.config, info.name)));
  }
  if (!out.weights.count("model.embed_tokens.weight")) {
    throw DataError(fmt::format("GGUF '{}': tensor 'token_embd.weight' is missing", path.string()));
  }
  return out;
}

}  // namespace slmq::io
