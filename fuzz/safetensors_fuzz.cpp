// The safetensors header and tensor table (every check SafetensorsFile::open runs), on the input
// as a whole file. Beyond "no crash, only typed errors", an accepted table must describe bytes
// the file has: each tensor's range inside the data section, its dtype × shape exactly that many
// bytes, every size a valid torch size. Otherwise a later at::empty or memcpy would trust it.
#include <cstdlib>

#include "fuzz_common.h"
#include "slmq/io/safetensors_header.h"

namespace {

void check_accepted(const slmq::SafetensorsHeader& header, std::size_t file_size) {
  for (const auto& t : header.tensors) {
    if (t.begin > t.end || t.end > file_size || t.begin < 8) std::abort();
    const int bits = slmq::safetensors_dtype_bits(t.dtype);
    if (bits == 0) std::abort();
    bool empty = false;
    for (const std::int64_t d : t.shape) {
      if (d < 0) std::abort();
      empty = empty || d == 0;
    }
    const std::uint64_t bytes = t.end - t.begin;
    if (empty) {
      if (bytes != 0) std::abort();
      continue;
    }
    // dtype bits × shape, refused as soon as it passes the file's bits (no overflow: the bound
    // is below 2^67 and each factor below 2^63).
    const unsigned __int128 limit = static_cast<unsigned __int128>(file_size) * 8;
    unsigned __int128 total_bits = static_cast<unsigned __int128>(bits);
    for (const std::int64_t d : t.shape) {
      if (total_bits > limit / static_cast<std::uint64_t>(d)) std::abort();
      total_bits *= static_cast<std::uint64_t>(d);
    }
    if (total_bits != static_cast<unsigned __int128>(bytes) * 8) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return slmq::fuzz::guarded([&] {
    const auto header = slmq::parse_safetensors_header({data, size}, "fuzz.safetensors");
    check_accepted(header, size);
  });
}
