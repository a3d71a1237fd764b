#pragma once
// OmniQuant's parameters (OpenGVLab/OmniQuant main.py and LLMC's OmniQuant `special:` block,
// specs/quant_methods.md §5 and §8): the `quant.omniquant:` config block. Defaults are the
// published scripts' (20 epochs), not main.py's (10).
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace slmq {

class ConfigNode;
enum class QuantFlavour;  // slmq/quant/quant_spec.h

// Whose OmniQuant. They differ in (specs/quant_methods.md §5, §8):
//  official: LET init w_j = max_i |W_ij|; with activations quantized, Q and K (after RoPE) and V
//            are fake-quantized per head and token too; quantizer formulas `omniquant`.
//  llmc:     LET init w_j = max_i W_ij (signed) raised to 1 − α in fp16; linear inputs only;
//            quantizer formulas `llmc`; symmetric LWC learns one factor per row (group); on GQA
//            models v_proj trains without s_qkv (LLMC resets its temporary weight when it skips
//            the v -> o transform) while the fold applies it.
// Both skip s_out (v -> o) and s_qk when v_proj's outputs or k_proj's rows differ from o_proj's
// inputs or q_proj's rows (GQA), as LLMC does; the official code crashes there.
enum class OmniFlavour { kOfficial, kLlmc };

std::string to_string(OmniFlavour f);

struct OmniquantOptions {
  OmniFlavour variant = OmniFlavour::kOfficial;  // config key `flavour`
  bool lwc = true;                               // learnable weight clipping
  // Learnable equivalent transforms; unset: on when activations are quantized, off for
  // weight-only schemes (the official scripts: `--lwc` for weight-only Llama, `--lwc --let`
  // for weight-activation).
  std::optional<bool> let;
  double lwc_lr = 1e-2;
  double let_lr = 5e-3;
  double alpha = 0.5;  // LET init s = a^α / w^(1−α)
  double wd = 0;       // AdamW weight decay
  int64_t epochs = 20;
  bool aug_loss = false;   // add MSE to the FP block's output on the quantized chain's input
  int64_t batch_size = 1;  // windows per optimizer step (official: 1)
  // llmc flavour on GQA models: train v_proj without s_qkv as LLMC does (see OmniFlavour).
  bool llmc_gqa_v_quirk = true;
  // CUDA: let cuBLAS use TF32 for fp32 matmuls while training (the reference trains in IEEE
  // fp32; TF32 is several times faster on Ampere and later, with a 10-bit mantissa).
  bool tf32 = false;

  // Whether LET runs for a scheme with or without quantized activations.
  bool let_enabled(bool activations_quantized) const { return let.value_or(activations_quantized); }
  // The quantizer formulas of the variant (omniquant's are the method's default).
  QuantFlavour quantizer_flavour() const;
  // The quantizer flavour these options impose over the method's (llmc), for the registry.
  std::optional<QuantFlavour> flavour() const;
  nlohmann::json to_json() const;
};

// `flavour (official|llmc), lwc, let, lwc_lr, let_lr, alpha, epochs, wd, aug_loss, batch_size,
// llmc_gqa_v_quirk, tf32` on top of `base`; ConfigErrors name the key path
// ("quant.omniquant.alpha").
OmniquantOptions parse_omniquant_section(const ConfigNode& node, OmniquantOptions base);

}  // namespace slmq
