#include "slmq/model/kv_cache.h"

#include <ATen/ATen.h>

#include "slmq/core/error.h"

namespace slmq {

KVCache::KVCache(const ModelConfig& config, int64_t batch, int64_t capacity, c10::ScalarType dtype,
                 c10::Device device)
    : batch_(batch) {
  auto options = at::TensorOptions().dtype(dtype).device(device);
  capacity = std::max<int64_t>(capacity, 1);
  for (int64_t i = 0; i < config.num_layers; ++i) {
    keys_.push_back(at::zeros({batch, config.num_kv_heads, capacity, config.head_dim}, options));
    values_.push_back(at::zeros({batch, config.num_kv_heads, capacity, config.head_dim}, options));
  }
  valid_ = at::zeros({batch, capacity}, at::TensorOptions().dtype(at::kBool).device(device));
  next_position_ = at::zeros({batch}, at::TensorOptions().dtype(at::kLong).device(device));
}

at::Tensor KVCache::valid() const { return valid_.narrow(1, 0, length_); }

int64_t KVCache::capacity() const { return valid_.size(1); }

float* KVCache::keys_data(int64_t layer) { return keys_.at(layer).data_ptr<float>(); }

float* KVCache::values_data(int64_t layer) { return values_.at(layer).data_ptr<float>(); }

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
  for (auto& k : keys_) grow(k, 2);
  for (auto& v : values_) grow(v, 2);
  grow(valid_, 1);
}

std::pair<at::Tensor, at::Tensor> KVCache::append(int64_t layer, const at::Tensor& k,
                                                  const at::Tensor& v) {
  if (layer < 0 || layer >= static_cast<int64_t>(keys_.size()) || k.size(0) != batch_) {
    throw InternalError("KVCache::append: layer or batch out of range");
  }
  const int64_t steps = k.size(2);
  reserve(length_ + steps);
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
  for (size_t l = 0; l < keys_.size(); ++l) {
    out.keys_[l] = repeat(keys_[l], 2);
    out.values_[l] = repeat(values_[l], 2);
  }
  out.valid_ = repeat(valid_, 1);
  out.next_position_ = next_position_.expand({batch}).clone();
  return out;
}

void KVCache::keep_rows(const std::vector<int64_t>& rows) {
  at::Tensor index = at::tensor(rows, at::kLong).to(valid_.device());
  for (auto& k : keys_) k = k.index_select(0, index);
  for (auto& v : values_) v = v.index_select(0, index);
  valid_ = valid_.index_select(0, index);
  next_position_ = next_position_.index_select(0, index);
  batch_ = static_cast<int64_t>(rows.size());
}

}  // namespace slmq
