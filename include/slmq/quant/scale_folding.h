#pragma once
// Folding per-channel scales into a decoder layer's weights, the function-preserving transforms of
// SmoothQuant (smooth_ln_fcs) and AWQ (scale_ln_fcs, scale_fc_fc): X·diag(s)⁻¹ · diag(s)·Wᵀ.
// Scales are fp32 [C]; weights keep their dtype (the product is formed in fp32 and cast back).
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "slmq/model/decoder_layer.h"
#include "slmq/model/linear_backend.h"

namespace slmq {

// The dense backend in `slot`; InternalError naming `name` when it is another kind.
const DenseLinear& dense_linear(const std::unique_ptr<LinearBackend>& slot,
                                const std::string& name);

// The norm's effective gain [C] ← gain / s (whatever the norm kind stores); each linear's input
// column j ← W[:, j]·s_j (dense linears, in place of the slot's backend).
void fold_scales_into_norm(DecoderLayer& layer, NormRole norm,
                           const std::vector<std::unique_ptr<LinearBackend>*>& linears,
                           const at::Tensor& s);

// llm-awq scale_fc_fc: the last len(s) output rows (and bias) of `prev` ← / s, the input columns
// of `next` ← · s.
void fold_scales_between_linears(std::unique_ptr<LinearBackend>& prev,
                                 std::unique_ptr<LinearBackend>& next, const at::Tensor& s);

}  // namespace slmq
