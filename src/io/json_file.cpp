#include "slmq/io/json_file.h"

#include <fstream>
#include <sstream>

#include "slmq/core/error.h"

namespace slmq {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError("cannot read '" + path.string() + "': no such file or not readable");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return nlohmann::json::parse(buffer.str());
  } catch (const nlohmann::json::exception& e) {
    throw DataError("'" + path.string() + "' is not valid JSON: " + e.what());
  }
}

}  // namespace slmq
