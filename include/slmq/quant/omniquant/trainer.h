#pragma once
// Training one block: AdamW with OmniQuant's two parameter groups (LET scales at let_lr, LWC
// factors at lwc_lr), MSE between the block's output in kTrain and the FP block's output, batch
// after batch in window order, for a number of epochs (quantize/omniquant.py's inner loop).
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <vector>

#include "slmq/model/decoder_layer.h"
#include "slmq/quant/omniquant/block.h"

namespace slmq::omniquant {

// torch.optim.AdamW with foreach off (decoupled weight decay, no amsgrad), the same operations
// in the same order; parameters without a gradient are skipped, as torch does.
class AdamW {
 public:
  struct Group {
    std::vector<at::Tensor> params;
    double lr = 1e-3;
  };
  AdamW(std::vector<Group> groups, double weight_decay, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8);
  void zero_grad();  // gradients to undefined (set_to_none)
  void step();

 private:
  struct State {
    at::Tensor exp_avg, exp_avg_sq;
    int64_t step = 0;
  };
  std::vector<Group> groups_;
  std::vector<std::vector<State>> state_;
  double wd_, beta1_, beta2_, eps_;
};

struct TrainSettings {
  int64_t epochs = 20;
  int64_t batch_size = 1;  // windows per step; a remainder of N / batch_size is left out
  double let_lr = 5e-3, lwc_lr = 1e-2, wd = 0;
  bool aug_loss = false;
  // CUDA autocast dtype for the forward (the official code's fp16 AMP when no bit width is in
  // [8, 16)); float16 adds dynamic loss scaling as torch's GradScaler does. nullopt: none.
  std::optional<c10::ScalarType> autocast;
};

struct NonFiniteLoss {
  int64_t epoch = 0, step = 0;  // 0-based step within the epoch
  double loss = 0;
};

struct BlockTraining {
  std::vector<double> epoch_loss;       // mean loss of each epoch's steps
  std::vector<double> epoch_grad_norm;  // mean L2 norm of all gradients (after unscaling)
  std::vector<double> step_loss;        // every step's loss, in order
  int64_t optimizer_steps = 0;
  int64_t skipped_steps = 0;  // a non-finite gradient: step skipped (torch GradScaler's rule)
  // Set when a loss was not finite: training stopped and the parameters of the last finite
  // loss were put back (the official code drops into pdb here).
  std::optional<NonFiniteLoss> nonfinite;
  double seconds = 0;
  // Process CPU time (all threads) during the training: on a shared machine the wall time
  // depends on the other jobs, this does not.
  double cpu_seconds = 0;

  nlohmann::json to_json() const;  // without step_loss
};

// Trains `block` on inputs [N,T,C] (the quantized chain's) against targets [N,T,C] (the FP
// chain's outputs) and, with aug_loss, aug_targets [N,T,C] (the FP block on `inputs`); all in
// the training dtype on the block's device. ctx: attention context of batch_size rows with RoPE
// tables in the training dtype. Leaves the block in kTrain with its learned parameters.
BlockTraining train_block(OmniBlock& block, const at::Tensor& inputs, const at::Tensor& targets,
                          const at::Tensor& aug_targets, const AttentionContext& ctx,
                          const TrainSettings& settings);

}  // namespace slmq::omniquant
