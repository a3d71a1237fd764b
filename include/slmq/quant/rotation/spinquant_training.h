#pragma once
// SpinQuant Stage A (optimize_rotation.py; specs/quant_methods.md §7.4): R1 and one R2 per layer
// learned by Cayley SGD on the Stiefel manifold, minimising the next-token cross-entropy of the
// quantized network. The rotations act on the fly: embeddings ← emb·R1, W·R1 for the linears
// reading the residual, R1ᵀ·W for those writing it, R2 on v_proj's heads and o_proj's head
// blocks, the hidden state un-rotated by R1ᵀ before lm_head; activation, KV and (optionally)
// weight quantizers use straight-through gradients. Each step accumulates the gradient of
// `batch_size` sequences, clips the global norm over {R1, R2s}, and takes one Cayley step with
// the cosine learning rate.
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

#include "slmq/calib/token_windows.h"
#include "slmq/quant/quant_spec.h"
#include "slmq/quant/rotation/rotation_pipeline.h"

namespace slmq {

class Model;

struct RotationTrainingResult {
  RotationMatrices rotations;  // fp32, as the reference saves them
  std::vector<double> losses;  // mean cross-entropy per step (before its update)
  std::vector<double> grad_norms;
  int retractions = 0;
  double forward_backward_seconds = 0, fold_seconds = 0, update_seconds = 0;
};

// The model must be prepared (prepare_for_rotation), with R4 applied and the R3/KV transform
// attached (KvQuantTransform passes straight-through gradients). Its decoder linears are swapped
// for rotating ones during training and restored (unchanged) afterwards. `data` holds at least
// steps · batch_size windows (fewer are reused cyclically). `progress` (optional) sees each step.
RotationTrainingResult train_rotations(
    Model& model, const QuantConfig& config, const CalibrationWindows& data, RotationMatrices init,
    const std::function<void(int64_t step, double loss)>& progress = {});

}  // namespace slmq
