// The Architecture defaults (the Llama block) and the lookups shared by every family.
#include "slmq/model/arch/architecture.h"

#include "slmq/core/error.h"
#include "slmq/model/model_config.h"

namespace slmq {

const char* to_string(LinearRole role) {
  static const char* const kNames[] = {"q", "k", "v", "o", "gate", "up", "down"};
  return kNames[static_cast<int>(role)];
}

const char* to_string(NormRole role) {
  static const char* const kNames[] = {"attn_in", "attn_out", "mlp_in", "mlp_out", "q", "k"};
  return kNames[static_cast<int>(role)];
}

const char* to_string(NormKind kind) { return kind == NormKind::kRms ? "rms" : "rms_one_plus"; }

const char* to_string(Activation activation) {
  return activation == Activation::kSilu ? "silu" : "gelu_tanh";
}

const std::vector<FusedName>& Architecture::fused_names() const {
  static const std::vector<FusedName> kNone;
  return kNone;
}

// The Llama block: smoothing/rotation groups as SmoothQuant, AWQ and QuaRot form them. v -> o
// only when v_proj's output width equals o_proj's input width (MHA): under GQA one v channel feeds
// several heads' o columns, so a per-channel scale cannot be folded (llm-awq's rule, LLMC's too).
BlockStructure Architecture::structure(const ModelConfig& m) const {
  BlockStructure s;
  s.folds.push_back({"attn_in",
                     NormRole::kAttnIn,
                     std::nullopt,
                     {LinearRole::kQ, LinearRole::kK, LinearRole::kV}});
  if (m.num_kv_heads == m.num_heads)
    s.folds.push_back({"attn_out", std::nullopt, LinearRole::kV, {LinearRole::kO}});
  s.folds.push_back(
      {"mlp_in", NormRole::kMlpIn, std::nullopt, {LinearRole::kGate, LinearRole::kUp}});
  s.folds.push_back({"mlp_out", std::nullopt, LinearRole::kUp, {LinearRole::kDown}});
  s.sequential = {{LinearRole::kK, LinearRole::kV, LinearRole::kQ},
                  {LinearRole::kO},
                  {LinearRole::kUp, LinearRole::kGate},
                  {LinearRole::kDown}};
  for (const auto& n : norm_names()) {
    if (n.role == NormRole::kAttnOut || n.role == NormRole::kMlpOut)
      s.residual_rotation_blockers.push_back(n.hf);
  }
  return s;
}

void Architecture::gguf_tensor_to_hf(const std::string&, const nlohmann::json&, std::vector<float>&,
                                     int64_t, int64_t) const {}

nlohmann::json Architecture::gguf_config(const io::GgufFile&) const {
  throw UnsupportedError("architecture " + hf_names().front() + " has no GGUF mapping");
}

const std::string& Architecture::hf_name(LinearRole role) const {
  for (const auto& l : linear_names())
    if (l.role == role) return l.hf;
  throw InternalError(std::string("architecture has no linear '") + to_string(role) + "'");
}

const std::string& Architecture::hf_name(NormRole role) const {
  for (const auto& n : norm_names())
    if (n.role == role) return n.hf;
  throw InternalError(std::string("architecture has no norm '") + to_string(role) + "'");
}

bool Architecture::has_norm(NormRole role) const {
  for (const auto& n : norm_names())
    if (n.role == role) return true;
  return false;
}

}  // namespace slmq
