#include "slmq/io/ggml_types.h"

#include <array>

#include "slmq/core/error.h"

namespace slmq::io {
namespace {

struct Entry {
  GgmlType type;
  GgmlTypeTraits traits;
};

// Geometry from the gguf package's GGML_QUANT_SIZES (QK_K = 256).
constexpr std::array kTypes{
    Entry{GgmlType::kF32, {"F32", 1, 4}},
    Entry{GgmlType::kF16, {"F16", 1, 2}},
    Entry{GgmlType::kQ4_0, {"Q4_0", 32, 18}},
    Entry{GgmlType::kQ4_1, {"Q4_1", 32, 20}},
    Entry{GgmlType::kQ5_0, {"Q5_0", 32, 22}},
    Entry{GgmlType::kQ5_1, {"Q5_1", 32, 24}},
    Entry{GgmlType::kQ8_0, {"Q8_0", 32, 34}},
    Entry{GgmlType::kQ8_1, {"Q8_1", 32, 40}},
    Entry{GgmlType::kQ2_K, {"Q2_K", 256, 84}},
    Entry{GgmlType::kQ3_K, {"Q3_K", 256, 110}},
    Entry{GgmlType::kQ4_K, {"Q4_K", 256, 144}},
    Entry{GgmlType::kQ5_K, {"Q5_K", 256, 176}},
    Entry{GgmlType::kQ6_K, {"Q6_K", 256, 210}},
    Entry{GgmlType::kQ8_K, {"Q8_K", 256, 292}},
    Entry{GgmlType::kIQ2_XXS, {"IQ2_XXS", 256, 66}},
    Entry{GgmlType::kIQ2_XS, {"IQ2_XS", 256, 74}},
    Entry{GgmlType::kIQ3_XXS, {"IQ3_XXS", 256, 98}},
    Entry{GgmlType::kIQ1_S, {"IQ1_S", 256, 50}},
    Entry{GgmlType::kIQ4_NL, {"IQ4_NL", 32, 18}},
    Entry{GgmlType::kIQ3_S, {"IQ3_S", 256, 110}},
    Entry{GgmlType::kIQ2_S, {"IQ2_S", 256, 82}},
    Entry{GgmlType::kIQ4_XS, {"IQ4_XS", 256, 136}},
    Entry{GgmlType::kI8, {"I8", 1, 1}},
    Entry{GgmlType::kI16, {"I16", 1, 2}},
    Entry{GgmlType::kI32, {"I32", 1, 4}},
    Entry{GgmlType::kI64, {"I64", 1, 8}},
    Entry{GgmlType::kF64, {"F64", 1, 8}},
    Entry{GgmlType::kIQ1_M, {"IQ1_M", 256, 56}},
    Entry{GgmlType::kBF16, {"BF16", 1, 2}},
    Entry{GgmlType::kTQ1_0, {"TQ1_0", 256, 54}},
    Entry{GgmlType::kTQ2_0, {"TQ2_0", 256, 66}},
    Entry{GgmlType::kMXFP4, {"MXFP4", 32, 17}},
    Entry{GgmlType::kNVFP4, {"NVFP4", 64, 36}},
    Entry{GgmlType::kQ1_0, {"Q1_0", 128, 18}},
};

}  // namespace

std::optional<GgmlTypeTraits> ggml_type_traits(std::uint32_t id) {
  for (const auto& e : kTypes) {
    if (static_cast<std::uint32_t>(e.type) == id) return e.traits;
  }
  return std::nullopt;
}

GgmlTypeTraits ggml_traits(GgmlType type) {
  auto traits = ggml_type_traits(static_cast<std::uint32_t>(type));
  if (!traits) {
    throw InternalError("ggml type id " + std::to_string(static_cast<std::uint32_t>(type)) +
                        " has no traits");
  }
  return *traits;
}

}  // namespace slmq::io
