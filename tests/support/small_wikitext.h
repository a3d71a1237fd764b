#pragma once
// A data folder whose WikiText-2 test file is the first `bytes` of the real one: the ppl block of
// a run config (ppl.data_dir) then tokenizes a few KB instead of 1.3 MB, for tests that only need
// a handful of windows.
#include <filesystem>
#include <fstream>
#include <string>

namespace slmq::test {

inline std::filesystem::path write_small_wikitext(const std::filesystem::path& data_dir,
                                                  const std::filesystem::path& dest,
                                                  size_t bytes = 16000) {
  std::ifstream in(data_dir / "wikitext2" / "wiki.test.raw", std::ios::binary);
  std::string text(bytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(bytes));
  text.resize(static_cast<size_t>(in.gcount()));
  std::filesystem::create_directories(dest / "wikitext2");
  std::ofstream(dest / "wikitext2" / "wiki.test.raw", std::ios::binary) << text;
  return dest;
}

}  // namespace slmq::test
