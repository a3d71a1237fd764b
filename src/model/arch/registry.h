#pragma once
// The families slmquant knows (private to src/model/arch/). A family file defines its factory;
// registry.cpp lists every factory once. Adding a family: one file and one line in each.
#include <memory>

#include "slmq/model/arch/architecture.h"

namespace slmq::arch {

std::unique_ptr<Architecture> make_llama();
std::unique_ptr<Architecture> make_mistral();
std::unique_ptr<Architecture> make_qwen2();
std::unique_ptr<Architecture> make_qwen3();
std::unique_ptr<Architecture> make_gemma3();
std::unique_ptr<Architecture> make_phi3();

}  // namespace slmq::arch
