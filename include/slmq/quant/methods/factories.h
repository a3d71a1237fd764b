#pragma once
// The constructors of the registered methods as plain functions, which the method table
// (src/quant/methods/registry.cpp) points to. Declared without the method classes so that the
// table, and the run-config parser that reads it, need no torch headers (the fuzz build parses
// run configs without libtorch and links fuzz/method_factories_stub.cpp instead of
// src/quant/methods/factories.cpp: a method added here needs a line in both).
#include <memory>

namespace slmq {

class QuantMethod;

std::unique_ptr<QuantMethod> make_rtn_method();
std::unique_ptr<QuantMethod> make_gptq_method();
std::unique_ptr<QuantMethod> make_smoothquant_method();
std::unique_ptr<QuantMethod> make_awq_method();
std::unique_ptr<QuantMethod> make_omniquant_method();
std::unique_ptr<QuantMethod> make_quarot_method();
std::unique_ptr<QuantMethod> make_spinquant_method();

}  // namespace slmq
