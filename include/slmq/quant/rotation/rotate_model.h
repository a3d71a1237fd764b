#pragma once
// Rotating a model in place without changing its function (QuaRot, SpinQuant; specs/
// quant_methods.md §6, §7.1-7.2). Every fold is computed in fp64 and cast back to the model dtype,
// as the references do.
//
// Order of use: prepare_for_rotation (untie, optional embedding centring, norm fusion), then
// rotate_residual (R1), rotate_values (R2) or rotate_values_quarot (QuaRot's v/o form), then
// rotate_down_proj (R4, offline half plus the online wrapper). R3 and KV quantizers are an
// AttentionTransform (online_hadamard.h).
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "slmq/model/model.h"

namespace slmq {

// Why a residual rotation (R1) cannot be applied: norms on the residual stream that are not
// followed by linears (the architecture's residual_rotation_blockers, e.g. Gemma-3's post-
// attention and post-MLP norms), naming the family and the norms; nullopt when it can.
std::optional<std::string> residual_rotation_reason(const Model& model);
// Why QuaRot's v/o rotation cannot be applied: its online cross-head Hadamard needs a head count
// that has a Hadamard transform whose factor matches the hidden size's (9 heads of SmolLM2-135M
// do not); the message suggests SpinQuant's per-head R2.
std::optional<std::string> quarot_value_rotation_reason(const Model& model);
// Why R4 cannot be applied (down_proj's input width has no Hadamard transform), or nullopt.
std::optional<std::string> down_proj_rotation_reason(const Model& model);
// Why R3 cannot be applied (head_dim without a transform), or nullopt.
std::optional<std::string> qk_rotation_reason(const Model& model);

// Unties a tied embedding (lm_head gets a clone), optionally mean-centres every embedding row
// (E ← E − mean_row(E), both references' default; not an identity for RMSNorm models), and
// multiplies every norm that feeds linears (the architecture's norm-led fold groups, and the
// final norm into lm_head) into those linears' input columns, leaving the norm at unit gain.
// Linears must be dense. Throws UnsupportedError with residual_rotation_reason.
void prepare_for_rotation(Model& model, bool center_embeddings);

// R1 [C, C] (orthogonal, any float dtype; used in fp64): E ← E·R1, W ← W·R1 for the linears
// reading the residual (q, k, v, gate, up, lm_head), W ← R1ᵀ·W and b ← R1ᵀ·b for those writing
// it (o, down). The model must have been prepared.
void rotate_residual(Model& model, const at::Tensor& r1);

// R2 per layer [D, D] (one matrix shared by every head of the layer): each KV head's rows of
// v_proj (and its bias) become R2ᵀ·W_h (values v_h·R2), each query head's column block of o_proj
// becomes W[:, h]·R2. GQA-consistent because every query head of a group reads the same rotated
// value head.
void rotate_values(Model& model, const std::vector<at::Tensor>& r2);

// QuaRot's v/o rotation: v_proj's rows per head get the exact Hadamard of head_dim, o_proj's
// input the full Hadamard of its width, and o_proj's input an online Hadamard across heads.
// Throws UnsupportedError with quarot_value_rotation_reason.
void rotate_values_quarot(Model& model, bool fp32_online);

// R4: down_proj ← down_proj·M (the exact Hadamard of its input width, folded) and an online
// Hadamard on its input (OnlineHadamardLinear, kFull). Throws UnsupportedError with
// down_proj_rotation_reason.
void rotate_down_proj(Model& model, bool fp32_online);

}  // namespace slmq
