#pragma once
// Compute dtype names as users write them in configs and on the command line, without torch (the
// run-config parser uses them and is fuzzed without libtorch; core/dtype.h maps them to torch).
#include <string>
#include <string_view>

namespace slmq {

// "float32"|"fp32" -> "float32", "bfloat16"|"bf16" -> "bfloat16", "float16"|"fp16"|"half" ->
// "float16". `key` names the config key or option for the ConfigError thrown otherwise.
std::string canonical_compute_dtype(std::string_view name, std::string_view key);

}  // namespace slmq
