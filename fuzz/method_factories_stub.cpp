// The fuzz build parses run configs (which read the method table of
// src/quant/methods/registry.cpp) without libtorch, so it has no method classes: these stand in
// for src/quant/methods/factories.cpp. No fuzz target builds a method.
#include <string>

#include "slmq/core/error.h"
#include "slmq/quant/methods/factories.h"

namespace slmq {
namespace {
[[noreturn]] void no_methods(const std::string& name) {
  throw InternalError("the fuzz build has no quantization methods (" + name + ")");
}
}  // namespace

std::unique_ptr<QuantMethod> make_rtn_method() { no_methods("rtn"); }
std::unique_ptr<QuantMethod> make_gptq_method() { no_methods("gptq"); }
std::unique_ptr<QuantMethod> make_smoothquant_method() { no_methods("smoothquant"); }
std::unique_ptr<QuantMethod> make_awq_method() { no_methods("awq"); }
std::unique_ptr<QuantMethod> make_omniquant_method() { no_methods("omniquant"); }
std::unique_ptr<QuantMethod> make_quarot_method() { no_methods("quarot"); }
std::unique_ptr<QuantMethod> make_spinquant_method() { no_methods("spinquant"); }

}  // namespace slmq
