#pragma once
// ggml tensor element types as stored in GGUF files: ids, names and block geometry. Every id the
// gguf package (0.19) knows is listed so that files with exotic types can still be inspected;
// which of them can be dequantized is a separate question (gguf_dequant.h).
#include <cstdint>
#include <optional>
#include <string_view>

namespace slmq::io {

enum class GgmlType : std::uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
};

struct GgmlTypeTraits {
  std::string_view name;     // as llama.cpp and the gguf package spell it, e.g. "Q4_K"
  std::uint32_t block_size;  // elements per block (1 for plain types)
  std::uint32_t type_size;   // bytes per block
};

// Traits of a raw type id read from a file; nullopt for ids this build does not know.
std::optional<GgmlTypeTraits> ggml_type_traits(std::uint32_t id);

// Traits of a known type.
GgmlTypeTraits ggml_traits(GgmlType type);

}  // namespace slmq::io
