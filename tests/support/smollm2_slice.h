#pragma once
// The slow literature-slice tests' one step: `slmquant run` on the bundled SmolLM2-135M-Instruct
// (Q4_1 GGUF dequantized to fp32) with a given `quant:` block, and its 'Wiki' token perplexity.
#include <string>

#include "support/temp_dir.h"

namespace slmq::test {

// Writes DIR/NAME.yaml (model, `quant: QUANT` unless QUANT is empty, ppl over the first WINDOWS
// WikiText-2 test windows of 512 tokens), runs it into DIR/results and returns the perplexity.
// A failed run is a test failure (EXPECT) naming NAME with the CLI's stderr.
double smollm2_slice_perplexity(const TempDir& dir, const std::string& name,
                                const std::string& quant, int windows);

// The bundled data folder, for calibration blocks (`data_dir: ...`).
std::string bundled_data_dir();

}  // namespace slmq::test
