#pragma once
// Block-by-block calibration: all windows are embedded once, then each decoder layer is run on
// its captured inputs [N,T,C] (in chunks of batch_size sequences, on the model device), hooks
// see every linear's input, and the layer's outputs become the next layer's inputs. Only one
// layer's inputs and outputs are held at any time, never the whole model's activations.
//
// Typical use (GPTQ's llama_sequential):
//   LayerwiseCapture cap(model, calib.windows, {.batch_size = 8, .propagate_quantized = true});
//   for (; !cap.done(); cap.advance()) {
//     LinearInputRecorder rec(cap.layer(), {"self_attn.q_proj", ...}, {.hessian = true});
//     cap.run(rec.hook(), rec.names());
//     ... quantize cap.layer() using rec.hessian(name) ...
//   }
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slmq/calib/recording_linear.h"
#include "slmq/calib/token_windows.h"
#include "slmq/core/progress.h"

namespace slmq {

class Model;

struct CaptureOptions {
  int64_t batch_size = 8;  // sequences per layer forward
  // Next layer's inputs: outputs of the layer as it is at advance() (true: after quantization,
  // GPTQ's error propagation) or as it was at the first run() after entering it (false: the
  // un-quantized layer, LLMC quant_out: False).
  bool propagate_quantized = true;
};

class LayerwiseCapture {
 public:
  // Embeds every window (the inputs of layer 0). The model must outlive the capture.
  LayerwiseCapture(Model& model, const CalibrationWindows& windows, CaptureOptions options = {});

  bool done() const { return index_ >= num_layers_; }
  int64_t layer_index() const { return index_; }
  DecoderLayer& layer();
  // The current layer's inputs [N,T,C] (compute dtype, model device) and token mask [N,T] int64
  // (undefined when every position is a token).
  const at::Tensor& inputs() const { return inputs_; }
  const at::Tensor& mask() const { return mask_; }
  int64_t samples() const { return inputs_.size(0); }

  // Runs the current layer as it is now over all inputs; `hook` sees the inputs of the linears
  // named in `watch` (relative to the layer; empty = all seven). Outputs are discarded, except
  // that the first run of a layer keeps them when propagate_quantized is false; when they are
  // discarded, each chunk's forward stops once every watched linear has shown its input.
  void run(const LinearInputHook& hook, const std::vector<std::string>& watch = {});
  // The current layer's outputs [N,T,C] as it is now (e.g. AWQ's block-output loss reference).
  at::Tensor outputs();
  // Moves to the next layer: its inputs are the current layer's outputs (see CaptureOptions).
  void advance();

  // Seconds spent in layer forwards (run, outputs, advance) and in the embedding.
  double forward_seconds() const { return forward_seconds_; }

 private:
  // Runs the current layer over all inputs chunk by chunk, writing outputs into `out` when it
  // is defined.
  void forward_all(const LinearInputHook* hook, const std::vector<std::string>& watch,
                   at::Tensor* out);

  Model& model_;
  CaptureOptions options_;
  // Layers done of all, with ETA (core/progress.h): the capture is the loop every layer-wise
  // method (GPTQ, AWQ, SmoothQuant, rotations + GPTQ) runs its per-layer work inside.
  std::unique_ptr<ProgressReporter> progress_;
  int64_t num_layers_ = 0;
  int64_t index_ = 0;
  at::Tensor inputs_, mask_, chunk_mask_;
  at::Tensor kept_outputs_;  // propagate_quantized == false: outputs of the first run
  bool ran_ = false;
  double forward_seconds_ = 0;
};

}  // namespace slmq
