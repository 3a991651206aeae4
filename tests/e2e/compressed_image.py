"""Reading the compression facts of an image header (runtime/image_format.h, format 6)."""
import struct

IMAGE_FLAGS_OFFSET = 208   # ImageHeader::image_flags
BLOCKS_OFFSET = 176        # ImageHeader::blocks_offset, n_blocks, block_record_size
IMAGE_COMPRESSED = 1 << 1  # kImageCompressed


def header(path):
    with open(path, "rb") as f:
        return f.read(256)


def is_compressed(path):
    h = header(path)
    return struct.unpack_from("<I", h, 8)[0] >= 6 and \
        bool(struct.unpack_from("<I", h, IMAGE_FLAGS_OFFSET)[0] & IMAGE_COMPRESSED)


def blocks(path):
    """[(stored_offset, stored_size, raw_size, codec, checksum)] of the block table."""
    h = header(path)
    meta_offset = struct.unpack_from("<Q", h, 24)[0]
    blocks_offset, n_blocks, record_size = struct.unpack_from("<QII", h, BLOCKS_OFFSET)
    out = []
    with open(path, "rb") as f:
        f.seek(meta_offset + blocks_offset)
        table = f.read(n_blocks * record_size)
    for i in range(n_blocks):
        out.append(struct.unpack_from("<QIIIIQ", table, i * record_size))
    return [(o, s, r, c, x) for (o, s, r, c, _pad, x) in out]
