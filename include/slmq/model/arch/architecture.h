#pragma once
// A model family as data (llama.cpp's habit: one file per architecture under src/model/arch/).
// Each family declares, once: how its config.json reads, the block's tensors and their names in
// HF checkpoints, GGUF files and compressed-tensors output (fused projections and how they
// split), and the structure quantization methods need — which norm or linear a per-channel scale
// or rotation of a group's input folds into, GPTQ's true-sequential order, which linears read the
// same input, and where online transforms attach. Model, loader, writers, readers, calibration
// and every method iterate over this description; no projection name is spelled elsewhere.
//
// Adding an architecture: one file in src/model/arch/ that subclasses Architecture (most
// families reuse the Llama tables of src/model/arch/llama_family.h) plus its factory in
// src/model/arch/registry.{h,cpp}. See docs/architectures.md.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace slmq {

struct ModelConfig;
class ConfigReader;
namespace io {
class GgufFile;
class GgufWriter;
}  // namespace io

// The seven projections of every supported block, after fused checkpoint tensors are split.
enum class LinearRole : int { kQ = 0, kK, kV, kO, kGate, kUp, kDown };
inline constexpr int kLinearRoles = 7;
inline constexpr LinearRole kAllLinearRoles[kLinearRoles] = {
    LinearRole::kQ,    LinearRole::kK,  LinearRole::kV,   LinearRole::kO,
    LinearRole::kGate, LinearRole::kUp, LinearRole::kDown};

// The norms a block may have; a family has a subset.
enum class NormRole : int {
  kAttnIn = 0,  // before attention (input_layernorm)
  kAttnOut,  // on the attention output, before the residual add (Gemma-3 post_attention_layernorm)
  kMlpIn,    // before the MLP (Llama post_attention_layernorm, Gemma-3 pre_feedforward_layernorm)
  kMlpOut,   // on the MLP output, before the residual add (Gemma-3 post_feedforward_layernorm)
  kQ,        // per-head RMSNorm of the queries before RoPE (Qwen3, Gemma-3), [head_dim]
  kK,        // per-head RMSNorm of the keys before RoPE, [head_dim]
};
inline constexpr int kNormRoles = 6;

// kRms: weight * (x / rms(x)), normalised in fp32 and cast back before the weight (Llama);
// kRmsOnePlus: ((x / rms(x)) * (1 + weight)) in fp32, then cast (Gemma-3).
enum class NormKind { kRms, kRmsOnePlus };
enum class Activation { kSilu, kGeluTanh };

const char* to_string(LinearRole role);
const char* to_string(NormRole role);
const char* to_string(NormKind kind);
const char* to_string(Activation activation);

// One tensor's names: relative to the block ("self_attn.q_proj") in HF checkpoints and
// compressed-tensors output, and after "blk.N." in GGUF ("attn_q"); without ".weight".
struct LinearName {
  LinearRole role;
  std::string hf, gguf;
};
struct NormName {
  NormRole role;
  std::string hf, gguf;
};
// A stored tensor holding several linears stacked by output rows in `parts` order (Phi-3's
// qkv_proj, gate_up_proj). Splitting is exact: every quantizer here is per output row or group.
struct FusedName {
  std::string hf, gguf;  // empty gguf: not fused in GGUF
  std::vector<LinearRole> parts;
};

// A group of linears that read the same input, with the op whose output that input is: a norm
// (a per-channel scale s folds as norm /= s, the linears' input columns *= s; a rotation folds
// into the linears once the norm weight is fused into them) or a linear (its output rows /= s).
struct FoldGroup {
  std::string name;                 // "attn_in", "attn_out", "mlp_in", "mlp_out"
  std::optional<NormRole> norm;     // set: the op before is this norm ...
  std::optional<LinearRole> prev;   // ... or this linear
  std::vector<LinearRole> linears;  // first: the one whose recorded input stands for all
};

// Where online transforms can attach (QuaRot/SpinQuant R3 and R4, KV quantizers).
struct OnlinePoints {
  bool qk_after_rope = true;     // Q and K after RoPE (and after q/k norms) — AttentionTransform
  bool before_down_proj = true;  // the MLP's down_proj input — a LinearBackend wrapper
  bool values = true;            // V at v_proj's output (per token) — AttentionTransform
};

// The block structure of one model, derived from its family and config.
struct BlockStructure {
  std::vector<FoldGroup> folds;  // in forward order
  // GPTQ's true-sequential groups (llama.py's `sequential`), quantized in this order.
  std::vector<std::vector<LinearRole>> sequential;
  OnlinePoints online;
  // Norms of the residual stream that a rotation of the residual (R1) cannot pass: a non-empty
  // list makes residual rotations impossible, with these names as the reason.
  std::vector<std::string> residual_rotation_blockers;
};

class Architecture {
 public:
  virtual ~Architecture() = default;

  // HF `architectures[0]` values this family answers to; the first is canonical.
  virtual std::vector<std::string> hf_names() const = 0;
  // GGUF `general.architecture` values read as this family (empty: none).
  virtual std::vector<std::string> gguf_names() const { return {}; }

  // Fills the family-specific parts of `m` from config.json (the common keys — sizes, heads,
  // eps, tokens — are already read). Throws DataError / UnsupportedError naming the key.
  virtual void parse_config(const ConfigReader& c, ModelConfig& m) const = 0;

  // Tensor names (HF relative names are also the compressed-tensors names).
  virtual const std::vector<LinearName>& linear_names() const = 0;
  virtual const std::vector<NormName>& norm_names() const = 0;  // the norms this family has
  virtual const std::vector<FusedName>& fused_names() const;    // default: none

  // Fold groups, sequential order, online points. The default is the Llama block; `m` decides
  // shape-dependent entries (v -> o only when v_proj's output matches o_proj's input, i.e. MHA).
  virtual BlockStructure structure(const ModelConfig& m) const;

  // GGUF metadata -> config.json for this family (`general.architecture` is one of
  // gguf_names()). Keys as transformers' GGUF loader maps them. Throws DataError naming the key.
  virtual nlohmann::json gguf_config(const io::GgufFile& file) const;
  // A stored GGUF tensor's fp32 values [rows, cols] as the HF checkpoint holds them (llama's
  // converter permutes q/k rows; Gemma's stores norm weights as 1 + w). `hf_name` is the full
  // HF tensor name; `config` the synthesized config.json.
  virtual void gguf_tensor_to_hf(const std::string& hf_name, const nlohmann::json& config,
                                 std::vector<float>& data, int64_t rows, int64_t cols) const;
  // Why gguf_tensor_to_hf cannot handle a tensor of `rows` rows (checked at load), or nullopt.
  virtual std::optional<std::string> gguf_tensor_problem(const std::string& hf_name,
                                                         const nlohmann::json& config,
                                                         int64_t rows) const {
    return std::nullopt;
  }

  // --- Writing GGUF (export/gguf_export.h) ---
  // general.architecture llama.cpp reads this family as (default: gguf_names().front();
  // UnsupportedError when there is none).
  virtual std::string gguf_export_name() const;
  // The hyper-parameter keys under gguf_export_name() and the tensors llama.cpp derives from the
  // config (rope_freqs, rope factors). Default: the llama-like keys (llama_family.h). Throws
  // UnsupportedError naming the setting when llama.cpp's family cannot compute what `m` does;
  // appends to `notes` what llama.cpp will do differently at long contexts (sliding windows).
  virtual void gguf_export_metadata(const ModelConfig& m, io::GgufWriter& w,
                                    std::vector<std::string>& notes) const;
  // Row order of HF tensor `hf_name` ([rows, ...]) in the file: file row r holds HF row
  // order[r] (llama's Q/K permutation); empty when unchanged. Rows move whole, so quantized
  // blocks move with them.
  virtual std::vector<int64_t> gguf_row_order(const std::string& hf_name, const ModelConfig& m,
                                              int64_t rows) const {
    return {};
  }
  // Added to stored norm weights in the file (Gemma's 1 + w); 0 otherwise.
  virtual float gguf_norm_offset() const { return 0.0f; }

  // Lookups into the tables above.
  const std::string& hf_name(LinearRole role) const;
  const std::string& hf_name(NormRole role) const;
  bool has_norm(NormRole role) const;
};

// The family for an HF architecture name; UnsupportedError naming the supported ones otherwise.
const Architecture& architecture_for(const std::string& hf_architecture, const std::string& source);
// The family for a GGUF general.architecture, or nullptr.
const Architecture* architecture_for_gguf(const std::string& gguf_architecture);
// Canonical HF names of every registered family, and the GGUF architectures they read.
std::vector<std::string> supported_architectures();
std::vector<std::string> supported_gguf_architectures();

}  // namespace slmq
