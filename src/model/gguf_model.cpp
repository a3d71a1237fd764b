// load_gguf_model_files: the GGUF file as HF checkpoint pieces (see gguf_model.h).
#include "slmq/model/gguf_model.h"

#include <fmt/format.h>

#include <string_view>

#include "slmq/core/error.h"
#include "slmq/io/gguf_dequant.h"
#include "slmq/io/gguf_model.h"

namespace slmq {
namespace {

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// The HF relative name of a block tensor's GGUF part ("attn_q" -> "self_attn.q_proj").
std::string block_hf_name(const Architecture& arch, std::string_view gguf) {
  for (const auto& l : arch.linear_names())
    if (!l.gguf.empty() && l.gguf == gguf) return l.hf;
  for (const auto& n : arch.norm_names())
    if (n.gguf == gguf) return n.hf;
  for (const auto& f : arch.fused_names())
    if (!f.gguf.empty() && f.gguf == gguf) return f.hf;
  return {};
}

GgufWeight make_weight(const std::shared_ptr<const io::GgufFile>& file,
                       const io::GgufTensorInfo& info, const Architecture& arch,
                       const std::string& hf_name, const nlohmann::json& config) {
  if (!io::can_dequantize(info.type)) {
    throw UnsupportedError(fmt::format("GGUF '{}': tensor '{}': dequantizing {} is not supported",
                                       file->path().string(), info.name,
                                       io::ggml_traits(info.type).name));
  }
  GgufWeight w{info.name, info.type, info.shape(), {}};
  const std::int64_t rows = w.shape.front();
  const std::int64_t cols = info.n_elements / rows;
  if (auto problem = arch.gguf_tensor_problem(hf_name, config, rows)) {
    throw DataError(
        fmt::format("GGUF '{}': tensor '{}': {}", file->path().string(), info.name, *problem));
  }
  const io::GgufTensorInfo* p = &info;  // stable: the file's tensor list never changes after open
  w.load = [file, p, rows, cols, &arch, hf_name, config] {
    std::vector<float> data = file->dequantize(*p);
    arch.gguf_tensor_to_hf(hf_name, config, data, rows, cols);
    return data;
  };
  return w;
}

}  // namespace

const Architecture& gguf_architecture(const io::GgufFile& file) {
  const std::string& name = file.get_string("general.architecture");
  if (const Architecture* arch = architecture_for_gguf(name)) return *arch;
  std::string list;
  for (const auto& n : supported_gguf_architectures()) list += (list.empty() ? "" : ", ") + n;
  throw UnsupportedError(
      fmt::format("GGUF '{}': general.architecture '{}' is not supported "
                  "(supported: {})",
                  file.path().string(), name, list));
}

nlohmann::json gguf_to_hf_config(const io::GgufFile& file) {
  return gguf_architecture(file).gguf_config(file);
}

std::string gguf_to_hf_tensor_name(const Architecture& arch, const std::string& gguf_name) {
  static const std::pair<std::string_view, std::string_view> kGlobal[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"output_norm.weight", "model.norm.weight"},
      {"output.weight", "lm_head.weight"}};
  for (const auto& [from, to] : kGlobal) {
    if (gguf_name == from) return std::string(to);
  }
  std::string_view name = gguf_name;
  if (!name.starts_with("blk.")) return {};
  name.remove_prefix(4);
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || !is_digits(name.substr(0, dot))) return {};
  const std::string_view layer = name.substr(0, dot);
  std::string_view rest = name.substr(dot + 1);
  std::string_view suffix;
  for (std::string_view s : {".weight", ".bias"}) {
    if (rest.ends_with(s)) suffix = s;
  }
  if (suffix.empty()) return {};
  rest.remove_suffix(suffix.size());
  const std::string hf = block_hf_name(arch, rest);
  if (hf.empty()) return {};
  return "model.layers." + std::string(layer) + "." + hf + std::string(suffix);
}

GgufModelFiles load_gguf_model_files(const std::filesystem::path& path) {
  GgufModelFiles out;
  auto file = std::make_shared<const io::GgufFile>(io::GgufFile::open(path));
  out.file = file;
  out.arch = &gguf_architecture(*file);
  out.config = out.arch->gguf_config(*file);
  out.tokenizer = io::gguf_to_hf_tokenizer(*file);
  out.tokenizer_config = io::gguf_to_hf_tokenizer_config(*file);
  for (const auto& info : file->tensors()) {
    // Consumed by the config: Llama-3.1+ RoPE factors.
    if (info.name == "rope_freqs.weight" &&
        out.config["rope_parameters"].value("rope_type", "") == "factors")
      continue;
    const std::string hf = gguf_to_hf_tensor_name(*out.arch, info.name);
    if (hf.empty()) {
      throw UnsupportedError(
          fmt::format("GGUF '{}': tensor '{}' has no Hugging Face counterpart "
                      "in architecture {}",
                      path.string(), info.name, out.arch->hf_names().front()));
    }
    out.weights.emplace(hf, make_weight(file, info, *out.arch, hf, out.config));
  }
  if (!out.weights.count("model.embed_tokens.weight")) {
    throw DataError(fmt::format("GGUF '{}': tensor 'token_embd.weight' is missing", path.string()));
  }
  return out;
}

}  // namespace slmq
