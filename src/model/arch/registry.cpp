#include "registry.h"

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq {
namespace {

const std::vector<std::unique_ptr<Architecture>>& families() {
  static const std::vector<std::unique_ptr<Architecture>> kFamilies = [] {
    std::vector<std::unique_ptr<Architecture>> f;
    f.push_back(arch::make_llama());
    f.push_back(arch::make_qwen2());
    f.push_back(arch::make_mistral());
    f.push_back(arch::make_qwen3());
    f.push_back(arch::make_gemma3());
    f.push_back(arch::make_phi3());
    return f;
  }();
  return kFamilies;
}

}  // namespace

const Architecture& architecture_for(const std::string& hf_architecture,
                                     const std::string& source) {
  for (const auto& family : families()) {
    for (const auto& name : family->hf_names())
      if (name == hf_architecture) return *family;
  }
  std::string list;
  for (const auto& name : supported_architectures()) list += (list.empty() ? "" : ", ") + name;
  throw UnsupportedError("'" + source + "': architecture '" + escape_message(hf_architecture) +
                         "' is not supported (supported: " + list + ")");
}

const Architecture* architecture_for_gguf(const std::string& gguf_architecture) {
  for (const auto& family : families()) {
    for (const auto& name : family->gguf_names())
      if (name == gguf_architecture) return family.get();
  }
  return nullptr;
}

std::vector<std::string> supported_architectures() {
  std::vector<std::string> names;
  for (const auto& family : families()) names.push_back(family->hf_names().front());
  return names;
}

std::vector<std::string> supported_gguf_architectures() {
  std::vector<std::string> names;
  for (const auto& family : families())
    for (const auto& name : family->gguf_names()) names.push_back(name);
  return names;
}

}  // namespace slmq
