#include "slmq/quant/methods/factories.h"

#include "slmq/quant/method_registry.h"
#include "slmq/quant/methods/awq.h"
#include "slmq/quant/methods/gptq.h"
#include "slmq/quant/methods/omniquant.h"
#include "slmq/quant/methods/quarot.h"
#include "slmq/quant/methods/rtn.h"
#include "slmq/quant/methods/smoothquant.h"
#include "slmq/quant/methods/spinquant.h"
#include "slmq/quant/quant_method.h"

namespace slmq {

std::unique_ptr<QuantMethod> make_rtn_method() { return std::make_unique<RtnMethod>(); }
std::unique_ptr<QuantMethod> make_gptq_method() { return std::make_unique<GptqMethod>(); }
std::unique_ptr<QuantMethod> make_smoothquant_method() {
  return std::make_unique<SmoothQuantMethod>();
}
std::unique_ptr<QuantMethod> make_awq_method() { return std::make_unique<AwqMethod>(); }
std::unique_ptr<QuantMethod> make_omniquant_method() { return std::make_unique<OmniquantMethod>(); }
std::unique_ptr<QuantMethod> make_quarot_method() { return std::make_unique<QuarotMethod>(); }
std::unique_ptr<QuantMethod> make_spinquant_method() { return std::make_unique<SpinQuantMethod>(); }

std::unique_ptr<QuantMethod> make_quant_method(const std::string& name) {
  return find_quant_method(name).make();
}

}  // namespace slmq
