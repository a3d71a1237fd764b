#include "support/gguf_python_view.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>

#include "slmq/io/gguf_file.h"
#include "slmq/io/json_file.h"
#include "support/checksum.h"
#include "support/temp_dir.h"

namespace slmq::test {
namespace {

// The gguf package's ReaderField.contents() for a value of ours.
nlohmann::json value_json(const io::GgufValue& v) {
  using T = io::GgufValueType;
  switch (v.type()) {
    case T::kString:
      return v.as_string();
    case T::kBool:
      return v.as_bool();
    case T::kFloat32:
    case T::kFloat64:
      return v.as_double();
    case T::kInt8:
    case T::kInt16:
    case T::kInt32:
    case T::kInt64:
      return v.as_int();
    case T::kArray: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& item : v.as_array()) a.push_back(value_json(item));
      return a;
    }
    default:
      return v.as_uint();
  }
}

nlohmann::json types_json(const io::GgufValue& v) {
  nlohmann::json t = nlohmann::json::array();
  auto name = [](io::GgufValueType type) {
    std::string s(io::gguf_value_type_name(type));
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  t.push_back(name(v.type()));
  if (v.type() == io::GgufValueType::kArray) t.push_back(name(v.element_type()));
  return t;
}

}  // namespace

nlohmann::json gguf_python_view(const std::filesystem::path& file) {
  TempDir tmp;
  const auto out = tmp.path() / "view.json";
  const std::string script = std::string(SLMQ_SOURCE_DIR) + "/scripts/reference/check_gguf_file.py";
  const std::string cmd = std::string(SLMQ_PYTHON_EXE) + " " + script + " '" + file.string() +
                          "' '" + out.string() + "'";
  if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(out)) {
    ADD_FAILURE() << "could not run " << cmd;
    return nullptr;
  }
  return read_json_file(out);
}

void expect_gguf_python_agrees(const std::filesystem::path& file) {
  const nlohmann::json py = gguf_python_view(file);
  if (py.is_null()) return;
  const io::GgufFile f = io::GgufFile::open(file);
  std::set<std::string> ours, theirs;
  for (const auto& [key, value] : f.metadata()) {
    ours.insert(key);
    if (!py["metadata"].contains(key)) continue;
    EXPECT_EQ(value_json(value), py["metadata"][key]["value"]) << key;
    EXPECT_EQ(types_json(value), py["metadata"][key]["types"]) << key;
  }
  for (const auto& [key, v] : py["metadata"].items()) theirs.insert(key);
  EXPECT_EQ(ours, theirs);
  const auto& tensors = py["tensors"];
  ASSERT_EQ(f.tensors().size(), tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const io::GgufTensorInfo& t = f.tensors()[i];
    EXPECT_EQ(t.name, tensors[i]["name"].get<std::string>());
    EXPECT_EQ(std::string(io::ggml_traits(t.type).name), tensors[i]["type"].get<std::string>())
        << t.name;
    EXPECT_EQ(t.dims, tensors[i]["dims"].get<std::vector<std::int64_t>>()) << t.name;
    EXPECT_EQ(fp32_checksum(f.dequantize(t)),
              std::stoull(tensors[i]["checksum"].get<std::string>()))
        << t.name;
  }
}

}  // namespace slmq::test
