// Parsing and validation of the GGUF header, metadata and tensor infos (see gguf_file.h for the
// checks). Every read goes through Cursor, which knows how many bytes are left, so a corrupt
// length can never read past the mapping or make us allocate more than the file could hold.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <numeric>

#include "slmq/core/error.h"
#include "slmq/core/escape.h"
#include "slmq/io/gguf_file.h"

namespace slmq::io {
namespace {

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as little-endian uint32
constexpr int kMaxArrayNesting = 8;
constexpr std::uint32_t kMaxDims = 4;

class Cursor {
 public:
  Cursor(const MappedFile& file) : file_(file) {}

  std::uint64_t pos() const { return pos_; }
  std::uint64_t remaining() const { return file_.size() - pos_; }
  void seek(std::uint64_t pos) { pos_ = pos; }

  // `what` describes the field for the error message.
  template <typename T>
  T read(const std::string& context, const char* what) {
    need(sizeof(T), context, what);
    T v;
    std::memcpy(&v, file_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const std::string& context, const char* what) {
    const std::uint64_t len = read<std::uint64_t>(context, what);
    if (len > remaining()) {
      fail(context, fmt::format("{} length {} at offset {} runs past the end of the file", what,
                                len, pos_ - 8));
    }
    std::string s(reinterpret_cast<const char*>(file_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  // Guards a count of items that each take at least `min_item_size` bytes.
  void check_count(std::uint64_t count, std::uint64_t min_item_size, const std::string& context,
                   const char* what) const {
    if (min_item_size != 0 && count > remaining() / min_item_size) {
      fail(context, fmt::format("{} {} at offset {} cannot fit in the {} bytes left", what, count,
                                pos_, remaining()));
    }
  }

  [[noreturn]] void fail(const std::string& context, const std::string& what) const {
    throw DataError(
        fmt::format("GGUF '{}': {}: {}", file_.path().string(), escape_message(context), what));
  }

 private:
  void need(std::uint64_t n, const std::string& context, const char* what) const {
    if (n > remaining()) {
      fail(context, fmt::format("{} at offset {} runs past the end of the file ({} bytes)", what,
                                pos_, file_.size()));
    }
  }

  const MappedFile& file_;
  std::uint64_t pos_ = 0;
};

std::uint64_t min_encoded_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kString:
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kArray:
      return 12;
  }
  return 1;
}

GgufValueType checked_value_type(std::uint32_t raw, Cursor& cur, const std::string& context) {
  if (raw > static_cast<std::uint32_t>(GgufValueType::kFloat64)) {
    cur.fail(context, fmt::format("unknown value type {} at offset {}", raw, cur.pos() - 4));
  }
  return static_cast<GgufValueType>(raw);
}

GgufValue read_value(Cursor& cur, GgufValueType type, const std::string& context, int depth) {
  using T = GgufValueType;
  switch (type) {
    case T::kUint8:
      return GgufValue::unsigned_int(type, cur.read<std::uint8_t>(context, "uint8"));
    case T::kInt8:
      return GgufValue::signed_int(type, cur.read<std::int8_t>(context, "int8"));
    case T::kUint16:
      return GgufValue::unsigned_int(type, cur.read<std::uint16_t>(context, "uint16"));
    case T::kInt16:
      return GgufValue::signed_int(type, cur.read<std::int16_t>(context, "int16"));
    case T::kUint32:
      return GgufValue::unsigned_int(type, cur.read<std::uint32_t>(context, "uint32"));
    case T::kInt32:
      return GgufValue::signed_int(type, cur.read<std::int32_t>(context, "int32"));
    case T::kUint64:
      return GgufValue::unsigned_int(type, cur.read<std::uint64_t>(context, "uint64"));
    case T::kInt64:
      return GgufValue::signed_int(type, cur.read<std::int64_t>(context, "int64"));
    case T::kFloat32:
      return GgufValue::floating(type, cur.read<float>(context, "float32"));
    case T::kFloat64:
      return GgufValue::floating(type, cur.read<double>(context, "float64"));
    case T::kBool: {
      const auto b = cur.read<std::uint8_t>(context, "bool");
      if (b > 1) cur.fail(context, fmt::format("bool byte {} at offset {}", b, cur.pos() - 1));
      return GgufValue::boolean(b == 1);
    }
    case T::kString:
      return GgufValue::string(cur.read_string(context, "string"));
    case T::kArray: {
      if (depth >= kMaxArrayNesting) {
        cur.fail(context, fmt::format("arrays nested deeper than {}", kMaxArrayNesting));
      }
      const auto elem_type =
          checked_value_type(cur.read<std::uint32_t>(context, "array type"), cur, context);
      const auto n = cur.read<std::uint64_t>(context, "array length");
      cur.check_count(n, min_encoded_size(elem_type), context, "array length");
      GgufValue::Array items;
      items.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) {
        items.push_back(read_value(cur, elem_type, context, depth + 1));
      }
      return GgufValue::array(elem_type, std::move(items));
    }
  }
  cur.fail(context, "unreachable value type");
}

std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

// Fills a GgufFile; a class (befriended by GgufFile) so that the parsing steps can stay short.
class GgufParser {
 public:
  explicit GgufParser(GgufFile& out) : out_(out), cur_(out.file_) {}

  void parse() {
    read_header();
    read_metadata();
    read_alignment();
    read_tensor_infos();
    out_.data_offset_ = align_up(cur_.pos(), out_.alignment_);
    place_tensors();
  }

 private:
  void read_header() {
    const std::string ctx = "header";
    const auto magic = cur_.read<std::uint32_t>(ctx, "magic");
    if (magic != kMagic) cur_.fail(ctx, fmt::format("bad magic 0x{:08x} (not a GGUF file)", magic));
    const auto version = cur_.read<std::uint32_t>(ctx, "version");
    if (version == 1) {
      throw UnsupportedError(fmt::format("GGUF '{}': version 1 is not supported (re-convert it)",
                                         out_.path().string()));
    }
    if (version == 0x02000000u || version == 0x03000000u) {
      throw UnsupportedError(
          fmt::format("GGUF '{}': big-endian files are not supported", out_.path().string()));
    }
    if (version != 2 && version != 3) cur_.fail(ctx, fmt::format("unknown version {}", version));
    out_.version_ = version;
    n_tensors_ = cur_.read<std::uint64_t>(ctx, "tensor count");
    n_kv_ = cur_.read<std::uint64_t>(ctx, "metadata count");
    // A key/value takes at least 13 bytes and a tensor info at least 32.
    cur_.check_count(n_kv_, 13, ctx, "metadata count");
    cur_.check_count(n_tensors_, 32, ctx, "tensor count");
  }

  void read_metadata() {
    for (std::uint64_t i = 0; i < n_kv_; ++i) {
      std::string key = cur_.read_string(fmt::format("metadata entry {}", i), "key");
      const std::string ctx = fmt::format("metadata key '{}'", key);
      const auto type = checked_value_type(cur_.read<std::uint32_t>(ctx, "value type"), cur_, ctx);
      GgufValue value = read_value(cur_, type, ctx, 0);
      if (out_.metadata_index_.count(key) != 0) cur_.fail(ctx, "duplicate key");
      out_.metadata_index_.emplace(key, out_.metadata_.size());
      out_.metadata_.emplace_back(std::move(key), std::move(value));
    }
  }

  void read_alignment() {
    if (out_.find("general.alignment") == nullptr) return;
    const std::string ctx = "metadata key 'general.alignment'";
    if (!out_.require("general.alignment").is_integer()) cur_.fail(ctx, "expected an integer");
    const std::uint64_t a = out_.get_uint("general.alignment");  // names file and key on error
    if (a == 0 || (a & (a - 1)) != 0 || a > (1u << 30)) {
      cur_.fail(ctx, fmt::format("alignment {} is not a power of two up to 2^30", a));
    }
    out_.alignment_ = a;
  }

  void read_tensor_infos() {
    out_.tensors_.reserve(n_tensors_);
    for (std::uint64_t i = 0; i < n_tensors_; ++i) {
      GgufTensorInfo info;
      info.name = cur_.read_string(fmt::format("tensor info {}", i), "name");
      const std::string ctx = fmt::format("tensor '{}'", info.name);
      const auto n_dims = cur_.read<std::uint32_t>(ctx, "dimension count");
      if (n_dims == 0 || n_dims > kMaxDims) {
        cur_.fail(ctx, fmt::format("{} dimensions (expected 1 to {})", n_dims, kMaxDims));
      }
      for (std::uint32_t d = 0; d < n_dims; ++d) {
        const auto dim = cur_.read<std::uint64_t>(ctx, "dimension");
        if (dim == 0 ||
            dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          cur_.fail(ctx, fmt::format("dimension {} is {}", d, dim));
        }
        info.dims.push_back(static_cast<std::int64_t>(dim));
      }
      const auto type_id = cur_.read<std::uint32_t>(ctx, "type");
      const auto traits = ggml_type_traits(type_id);
      if (!traits) cur_.fail(ctx, fmt::format("unknown ggml type {}", type_id));
      info.type = static_cast<GgmlType>(type_id);
      info.offset = cur_.read<std::uint64_t>(ctx, "data offset");
      size_tensor(info, *traits, ctx);
      if (out_.tensor_index_.count(info.name) != 0) cur_.fail(ctx, "duplicate tensor name");
      out_.tensor_index_.emplace(info.name, out_.tensors_.size());
      out_.tensors_.push_back(std::move(info));
    }
  }

  // n_elements and n_bytes, refusing shapes whose sizes overflow or split a block.
  void size_tensor(GgufTensorInfo& info, const GgmlTypeTraits& traits, const std::string& ctx) {
    std::int64_t n = 1;
    for (std::int64_t d : info.dims) {
      if (__builtin_mul_overflow(n, d, &n)) cur_.fail(ctx, "element count overflows");
    }
    if (info.dims[0] % traits.block_size != 0) {
      cur_.fail(ctx, fmt::format("row length {} is not a multiple of the {} block size {}",
                                 info.dims[0], traits.name, traits.block_size));
    }
    std::uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<std::uint64_t>(n / traits.block_size),
                               static_cast<std::uint64_t>(traits.type_size), &bytes)) {
      cur_.fail(ctx, "byte size overflows");
    }
    info.n_elements = n;
    info.n_bytes = bytes;
  }

  // Turns relative offsets into file offsets and checks alignment, bounds and overlaps.
  void place_tensors() {
    const std::uint64_t size = out_.file_.size();
    for (auto& info : out_.tensors_) {
      const std::string ctx = fmt::format("tensor '{}'", info.name);
      if (info.offset % out_.alignment_ != 0) {
        cur_.fail(ctx, fmt::format("data offset {} is not a multiple of the alignment {}",
                                   info.offset, out_.alignment_));
      }
      std::uint64_t begin = 0, end = 0;
      if (__builtin_add_overflow(out_.data_offset_, info.offset, &begin) ||
          __builtin_add_overflow(begin, info.n_bytes, &end) || end > size) {
        cur_.fail(ctx, fmt::format("data [{}, +{}) at relative offset {} lies outside the file "
                                   "({} bytes, data section at {})",
                                   begin, info.n_bytes, info.offset, size, out_.data_offset_));
      }
      info.offset = begin;
    }
    std::vector<std::size_t> order(out_.tensors_.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return out_.tensors_[a].offset < out_.tensors_[b].offset;
    });
    for (std::size_t i = 1; i < order.size(); ++i) {
      const auto& prev = out_.tensors_[order[i - 1]];
      const auto& next = out_.tensors_[order[i]];
      if (prev.offset + prev.n_bytes > next.offset) {
        cur_.fail(fmt::format("tensor '{}'", next.name),
                  fmt::format("data overlaps tensor '{}'", prev.name));
      }
    }
  }

  GgufFile& out_;
  Cursor cur_;
  std::uint64_t n_tensors_ = 0;
  std::uint64_t n_kv_ = 0;
};

GgufFile GgufFile::open(const std::filesystem::path& path) {
  GgufFile file;
  file.file_ = MappedFile::open(path);
  GgufParser(file).parse();
  return file;
}

}  // namespace slmq::io
