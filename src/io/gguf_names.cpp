// The Q/K row permutation llama.cpp's converter applies to Llama-family attention weights
// (convert_hf_to_gguf.py, LlamaModel.permute), which transformers' GGUF loader undoes with the same
// reshape/swapaxes (reverse_permute).
#include <cstring>

#include "slmq/core/error.h"
#include "slmq/io/gguf_model.h"

namespace slmq::io {
void unpermute_qk_rows(std::vector<float>& data, std::int64_t rows, std::int64_t cols,
                       std::int64_t n_head) {
  if (n_head <= 0 || rows % (2 * n_head) != 0 ||
      static_cast<std::int64_t>(data.size()) != rows * cols) {
    throw DataError("cannot undo the Q/K permutation: " + std::to_string(rows) + " rows for " +
                    std::to_string(n_head) + " heads");
  }
  const std::int64_t half = rows / n_head / 2;
  std::vector<float> out(data.size());
  for (std::int64_t h = 0; h < n_head; ++h) {
    for (std::int64_t i = 0; i < half; ++i) {
      for (std::int64_t j = 0; j < 2; ++j) {
        const std::int64_t src = h * 2 * half + 2 * i + j;
        const std::int64_t dst = h * 2 * half + j * half + i;
        std::memcpy(&out[dst * cols], &data[src * cols], cols * sizeof(float));
      }
    }
  }
  data.swap(out);
}

}  // namespace slmq::io
