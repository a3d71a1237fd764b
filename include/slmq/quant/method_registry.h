#pragma once
// The quantization methods slmquant has, by name: what `quant.method` accepts, what
// make_quant_method builds, which `quant.<method>:` options block each parses, its quantizer
// flavour and calibration defaults. The config parser, the CLI's choice lists, the result file's
// config record and make_quant_method all read this table; nothing else names methods.
//
// Adding a method (say `omniquant`) is one file plus its registration:
//
//  1. The method: src/quant/methods/omniquant.cpp (+ include/slmq/quant/methods/omniquant.h), a
//     class deriving from QuantMethod (quant_method.h) whose name() returns "omniquant".
//  2. Its options, if it has any: a plain struct with defaults = the reference's, and a parser,
//     e.g. in include/slmq/quant/omniquant_options.h + src/quant/omniquant_options.cpp:
//
//       struct OmniquantOptions {
//         int64_t epochs = 20;
//         bool lwc = true;
//         nlohmann::json to_json() const;  // recorded as quant.config.omniquant
//         // optional: std::optional<QuantFlavour> flavour() const;  (see MethodOptions)
//         // optional: bool uses_calibration() const;  (false: this config draws no windows)
//       };
//       // ConfigErrors name the key path ("quant.omniquant.epochs").
//       OmniquantOptions parse_omniquant_section(const ConfigNode& node, OmniquantOptions base) {
//         node.allow_only({"epochs", "lwc"});            // unknown keys fail, with a hint
//         base.epochs = node.get_int("epochs", base.epochs);
//         if (base.epochs < 1) node.fail("epochs", "must be at least 1");
//         base.lwc = node.get_bool("lwc", base.lwc);
//         return base;
//       }
//
//     The run config then accepts `quant: {method: omniquant, omniquant: {epochs: 10}}` (a
//     `quant.omniquant:` block with another method is a ConfigError), `slmquant quantize
//     --method omniquant --set omniquant.epochs=10` the same, and the method reads its options
//     with `config.options<OmniquantOptions>()`.
//  3. One entry in the table in src/quant/methods/registry.cpp:
//
//       {.name = "omniquant",
//        .flavour = QuantFlavour::kOmniquant,
//        .calibration = omniquant_calibration(),  // omit for a method without calibration
//        .make = make_omniquant_method,  // methods/factories.h, factories.cpp
//        .parse_options = options_parser(parse_omniquant_section)},  // omit without options
//
//     The table's order is the order `--help` and error messages list the methods in.
//  4. Its constructor function: make_omniquant_method in methods/factories.h, defined in
//     src/quant/methods/factories.cpp (and, throwing, in fuzz/method_factories_stub.cpp), so
//     that this table needs no torch headers.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slmq/calib/calibration_config.h"
#include "slmq/config/config_node.h"
#include "slmq/quant/method_options.h"

namespace slmq {

class QuantMethod;  // quant_method.h

// Parses a method's `quant.<method>:` block; `block` is null when the block is absent (the
// method's defaults). Throws ConfigError naming the key path.
using MethodOptionsParser =
    std::function<std::shared_ptr<const MethodOptions>(const ConfigNode* block)>;

struct QuantMethodInfo {
  std::string name;
  // The quantizer formulas of the method's reference code, used for the scheme presets and the
  // weight/activation specs unless `flavour:` is configured (the options may override it).
  QuantFlavour flavour = QuantFlavour::kCompressedTensors;
  // Calibration defaults of the reference; nullopt: the method draws no calibration windows and
  // a `quant.calibration:` block is a ConfigError.
  std::optional<CalibrationConfig> calibration;
  // A plain function pointer (methods/factories.h): std::function would need QuantMethod complete.
  std::unique_ptr<QuantMethod> (*make)() = nullptr;
  MethodOptionsParser parse_options;  // empty: the method has no options block
};

// The parser of an options struct T from `T parse(const ConfigNode&, T base)`, starting from T{}.
template <class T>
MethodOptionsParser options_parser(T (*parse)(const ConfigNode&, T)) {
  return [parse](const ConfigNode* block) -> std::shared_ptr<const MethodOptions> {
    return std::make_shared<const MethodOptionsOf<T>>(block ? parse(*block, T{}) : T{});
  };
}

// Every registered method, in registration order.
const std::vector<QuantMethodInfo>& quant_methods();
std::vector<std::string> quant_method_names();
// "rtn, gptq, smoothquant, awq": for help texts and error messages.
std::string quant_method_list();

// The registration of `name`; ConfigError naming `key` ("quant.method") and the available
// methods for a name that is not registered.
const QuantMethodInfo& find_quant_method(const std::string& name,
                                         const std::string& key = "quant.method");

// The registered flavour and calibration defaults of `method` (ConfigError when unregistered);
// default_calibration is CalibrationConfig{} for a method without calibration.
QuantFlavour default_flavour(const std::string& method);
CalibrationConfig default_calibration(const std::string& method);

}  // namespace slmq
