#include "slmq/core/dtype_names.h"

#include "slmq/core/error.h"
#include "slmq/core/escape.h"

namespace slmq {

std::string canonical_compute_dtype(std::string_view name, std::string_view key) {
  if (name == "float32" || name == "fp32") return "float32";
  if (name == "bfloat16" || name == "bf16") return "bfloat16";
  if (name == "float16" || name == "fp16" || name == "half") return "float16";
  throw ConfigError(std::string(key) + ": '" + escape_message(name) +
                    "' is not a compute dtype; expected float32, bfloat16 or float16");
}

}  // namespace slmq
