#pragma once
// Whose quantizer formulas a QuantSpec reproduces (specs/quant_methods.md §1); quant_spec.h parses
// and prints them.

namespace slmq {

// Whose formulas: they differ in scale divisor, integer range, whether min/max are widened to
// include 0, epsilons and what a group size that does not divide the width does.
enum class QuantFlavour {
  kGptq,               // IST-DASLab gptq quant.py: unsigned codes, sym zero 2^(b-1), Δ=2m/(2^b-1)
  kCompressedTensors,  // llm-compressor / compressed-tensors: signed codes, Δ=m/((2^b-1)/2)
  kQuarot,             // QuaRot / SpinQuant WeightQuantizer + ActQuantizer: Δ=m/(2^(b-1)-1)
  kLlmc,               // LLMC IntegerQuantizer (also SmoothQuant's fake_quant): no 0 in range
  kOmniquant,  // OmniQuant UniformAffineQuantizer (LWC off): sym ints [-(2^(b-1)-1), 2^(b-1)]
  kAwq,        // llm-awq pseudo_quantize_tensor
};

}  // namespace slmq
