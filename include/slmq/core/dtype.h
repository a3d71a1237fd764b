#pragma once
// Compute dtypes and devices as users name them in configs and on the command line.
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>
#include <string_view>

namespace slmq {

// "float32"|"fp32", "bfloat16"|"bf16", "float16"|"fp16"|"half". `key` names the config key or
// option for the ConfigError thrown otherwise.
c10::ScalarType parse_compute_dtype(std::string_view name, std::string_view key);

// Canonical name: "float32", "bfloat16", "float16", or torch's name for other types.
std::string dtype_name(c10::ScalarType dtype);

// "cpu", "cuda", "cuda:N" or "auto" (CUDA when torch sees a GPU, else CPU). Asking for CUDA
// without a GPU throws UnsupportedError.
c10::Device parse_device(std::string_view name, std::string_view key);

bool cuda_available();

}  // namespace slmq
