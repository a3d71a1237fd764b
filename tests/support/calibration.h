#pragma once
// Calibration data made of given token windows, as the reference generators fed them.
#include <ATen/ATen.h>

#include "slmq/calib/calibration_data.h"

namespace slmq::test {

// ids [N,T] int64: the windows, without padding or sampling metadata.
inline CalibrationData calibration_from_ids(const at::Tensor& ids) {
  CalibrationData c;
  c.windows.ids = ids;
  return c;
}

}  // namespace slmq::test
