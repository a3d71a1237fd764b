#include "slmq/model/kv_cache.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {

KvStorage parse_kv_storage(const std::string& name, const std::string& key) {
  if (name == "float") return KvStorage::kCompute;
  if (name == "int8") return KvStorage::kInt8;
  throw ConfigError(key + ": '" + name +
                    "' is not a KV-cache storage (float: the compute dtype; int8: packed codes "
                    "with a scale per 32 elements)");
}

const char* to_string(KvStorage storage) { return storage == KvStorage::kInt8 ? "int8" : "float"; }

int64_t kv_int8_group(int64_t head_dim) { return head_dim % 32 == 0 ? 32 : head_dim; }

int64_t kv_vector_bytes(KvStorage storage, int64_t head_dim, c10::ScalarType dtype) {
  if (storage == KvStorage::kInt8)
    return head_dim + (head_dim / kv_int8_group(head_dim)) * static_cast<int64_t>(sizeof(float));
  return head_dim * static_cast<int64_t>(c10::elementSize(dtype));
}

KVCache::KVCache(const ModelConfig& config, int64_t batch, int64_t capacity, c10::ScalarType dtype,
                 c10::Device device, KvStorage storage)
    : batch_(batch), storage_(storage), group_(kv_int8_group(config.head_dim)) {
  const bool int8 = storage == KvStorage::kInt8;
  auto options = at::TensorOptions().dtype(int8 ? at::kChar : dtype).device(device);
  auto scale_options = at::TensorOptions().dtype(at::kFloat).device(device);
  capacity = std::max<int64_t>(capacity, 1);
  const int64_t h = config.num_kv_heads, d = config.head_dim;
  for (int64_t i = 0; i < config.num_layers; ++i) {
    keys_.push_back(at::zeros({batch, h, capacity, d}, options));
    values_.push_back(at::zeros({batch, h, capacity, d}, options));
    if (!int8) continue;
    key_scales_.push_back(at::zeros({batch, h, capacity, d / group_}, scale_options));
    value_scales_.push_back(at::zeros({batch, h, capacity, d / group_}, scale_options));
  }
  valid_ = at::zeros({batch, capacity}, at::TensorOptions().dtype(at::kBool).device(device));
  next_position_ = at::zeros({batch}, at::TensorOptions().dtype(at::kLong).device(device));
}

template <typename F>
void KVCache::for_each_store(F&& f) {
  for (auto* list : {&keys_, &values_, &key_scales_, &value_scales_})
    for (auto& t : *list) f(t);
}

at::Tensor KVCache::valid() const { return valid_.narrow(1, 0, length_); }

int64_t KVCache::capacity() const { return valid_.size(1); }

namespace {

void expect(bool ok, const char* what) {
  if (!ok) throw InternalError(std::string("KVCache: ") + what);
}

}  // namespace

float* KVCache::keys_data(int64_t layer) {
  expect(storage_ == KvStorage::kCompute, "float keys of an int8 cache");
  return keys_.at(layer).data_ptr<float>();
}

float* KVCache::values_data(int64_t layer) {
  expect(storage_ == KvStorage::kCompute, "float values of an int8 cache");
  return values_.at(layer).data_ptr<float>();
}

int8_t* KVCache::key_codes(int64_t layer) {
  expect(storage_ == KvStorage::kInt8, "codes of a float cache");
  return keys_.at(layer).data_ptr<int8_t>();
}

int8_t* KVCache::value_codes(int64_t layer) {
  expect(storage_ == KvStorage::kInt8, "codes of a float cache");
  return values_.at(layer).data_ptr<int8_t>();
}

float* KVCache::key_scales(int64_t layer) { return key_scales_.at(layer).data_ptr<float>(); }

float* KVCache::value_scales(int64_t layer) { return value_scales_.at(layer).data_ptr<float>(); }

const bool* KVCache::valid_data() const { return valid_.data_ptr<bool>(); }

void KVCache::advance_all_valid() {
  reserve(length_ + 1);
  bool* valid = valid_.data_ptr<bool>();
  int64_t* next = next_position_.data_ptr<int64_t>();
  const int64_t cap = capacity();
  for (int64_t b = 0; b < batch_; ++b) {
    valid[b * cap + length_] = true;
    next[b] += 1;
  }
  length_ += 1;
}

void KVCache::reserve(int64_t slots) {
  const int64_t capacity = valid_.size(1);
  if (slots <= capacity) return;
  const int64_t grown = std::max(slots, 2 * capacity);
  auto grow = [&](at::Tensor& t, int64_t dim) {
    auto sizes = t.sizes().vec();
    sizes[dim] = grown - capacity;
    t = at::cat({t, at::zeros(sizes, t.options())}, dim);
  };
  for_each_store([&](at::Tensor& t) { grow(t, 2); });
  grow(valid_, 1);
}

// The codes and scales as the decode loop's kernel computes them (kernels::quantize_kv_int8):
// fp32 max|x| / 127, IEEE division, round half to even, so both paths store the same bytes.
at::Tensor KVCache::store_int8(at::Tensor& codes, at::Tensor& scales, const at::Tensor& x,
                               int64_t at) {
  const int64_t steps = x.size(2), d = x.size(3);
  at::Tensor g = x.to(at::kFloat).reshape({x.size(0), x.size(1), steps, d / group_, group_});
  at::Tensor scale = g.abs().amax(-1) / 127.0f;  // [B,H,T,D/group]
  at::Tensor safe = at::where(scale > 0, scale, at::ones_like(scale));
  at::Tensor q = at::round(g / safe.unsqueeze(-1)).clamp(-127, 127);
  codes.narrow(2, at, steps).copy_(q.reshape(x.sizes()).to(at::kChar));
  scales.narrow(2, at, steps).copy_(scale);
  const int64_t n = at + steps;
  at::Tensor all =
      codes.narrow(2, 0, n).to(at::kFloat).reshape({x.size(0), x.size(1), n, d / group_, group_});
  return (all * scales.narrow(2, 0, n).unsqueeze(-1))
      .reshape({x.size(0), x.size(1), n, d})
      .to(x.scalar_type());
}

std::pair<at::Tensor, at::Tensor> KVCache::append(int64_t layer, const at::Tensor& k,
                                                  const at::Tensor& v) {
  if (layer < 0 || layer >= static_cast<int64_t>(keys_.size()) || k.size(0) != batch_) {
    throw InternalError("KVCache::append: layer or batch out of range");
  }
  const int64_t steps = k.size(2);
  reserve(length_ + steps);
  if (storage_ == KvStorage::kInt8) {
    return {store_int8(keys_[layer], key_scales_[layer], k, length_),
            store_int8(values_[layer], value_scales_[layer], v, length_)};
  }
  keys_[layer].narrow(2, length_, steps).copy_(k);
  values_[layer].narrow(2, length_, steps).copy_(v);
  return {keys_[layer].narrow(2, 0, length_ + steps), values_[layer].narrow(2, 0, length_ + steps)};
}

void KVCache::commit(const at::Tensor& mask) {
  const int64_t steps = mask.size(1);
  reserve(length_ + steps);
  at::Tensor m = mask.to(valid_.device()).to(at::kBool);
  valid_.narrow(1, length_, steps).copy_(m);
  next_position_ += m.sum(1);
  length_ += steps;
}

KVCache KVCache::repeat_rows(int64_t batch, int64_t extra_slots) const {
  if (batch_ != 1 || batch < 1)
    throw InternalError("KVCache::repeat_rows: needs one row, gives >= 1");
  const int64_t capacity = length_ + std::max<int64_t>(extra_slots, 1);
  // copy_ broadcasts the single source row into every row of the new slots.
  auto repeat = [&](const at::Tensor& t, int64_t slot_dim) {
    auto sizes = t.sizes().vec();
    sizes[0] = batch;
    sizes[slot_dim] = capacity;
    at::Tensor out = at::zeros(sizes, t.options());
    out.narrow(slot_dim, 0, length_).copy_(t.narrow(slot_dim, 0, length_));
    return out;
  };
  KVCache out(*this);
  out.batch_ = batch;
  out.for_each_store([&](at::Tensor& t) { t = repeat(t, 2); });
  out.valid_ = repeat(valid_, 1);
  out.next_position_ = next_position_.expand({batch}).clone();
  return out;
}

void KVCache::keep_rows(const std::vector<int64_t>& rows) {
  at::Tensor index = at::tensor(rows, at::kLong).to(valid_.device());
  for_each_store([&](at::Tensor& t) { t = t.index_select(0, index); });
  valid_ = valid_.index_select(0, index);
  next_position_ = next_position_.index_select(0, index);
  batch_ = static_cast<int64_t>(rows.size());
}

}  // namespace slmq
