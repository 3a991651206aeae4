// ckptctl inspect: the process attributes (runtime/process_attrs.h) and the world
// (runtime/world.h) of an image, as tables and as JSON.
#pragma once

#include "ckptctl_json.h"
#include "image_reader.h"

namespace ckptctl {

void print_attrs_text(const ckpt::Image &img);
// Adds the keys "attributes" and "world" (null for images of formats 1-3).
void attrs_json(JsonWriter &j, const ckpt::Image &img);

}  // namespace ckptctl
