// XXH3-64 checksums of the libraries' stored data: the runtime's own (runtime/checksum.h), so
// the libraries and the image format checksum the same way.
#pragma once

#include "../../runtime/checksum.h"

namespace ckp {

using ckpt::checksum;
using ckpt::Checksum;

}  // namespace ckp
