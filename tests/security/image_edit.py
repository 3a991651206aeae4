"""Reading and rewriting checkpoint images in tests (runtime/image_format.h,
docs/image-format.md): parse the header, regions, descriptors and strings, change them in
place, and recompute the checksums (XXH3-64, through libxxhash) as a forger would."""
import ctypes
import struct

_xx = ctypes.CDLL("libxxhash.so.0")
_xx.XXH3_64bits.restype = ctypes.c_uint64
_xx.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]

# Format 6: ... strings_size, attrs_offset, attrs_size, world_offset, world_size, threads_offset,
# n_threads, thread_record_size, blocks_offset, n_blocks, block_record_size, stats_offset,
# stats_size, image_flags, chain_depth, parent_version, parent_checksum, header_checksum.
HEADER = struct.Struct("<8sIIQQQQQQQQQQQIIIIQQQQQQIIQIIQQIIQQQ")
# WorldRecord: offsets of the fields the tests edit.
WORLD_KERNEL_RELEASE = 8
WORLD_KERNEL_RELEASE_LEN = 65
WORLD_XCR0 = 144
REGION = struct.Struct("<QQIIIIQQQQqIIQQQIIQ")  # format 6: + first_block, n_blocks, inherited_pages
# Format 3: tagged variable-length records, FdCommon (kind, record_size, fd, open_flags, flags,
# shares_with, offset, dev, ino, path, payload_size) + payload.
FD = struct.Struct("<IIiIIIqQQII")
FD_PATH = 9  # index of the path field in an FD record
PROT_WRITE = 2
REGION_SHARED = 1
KIND_FILE = 1


def xxh3(data):
    return _xx.XXH3_64bits(bytes(data), len(data))


class Image:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.raw = bytearray(f.read())
        self.h = list(HEADER.unpack_from(self.raw, 0))
        (_, _, _, _, self.meta_off, self.meta_size, _, _, _, self.regions_off, _, self.fds_off, _,
         self.strings_off, self.n_regions, _, self.n_fds, _, self.strings_size, self.attrs_off, self.attrs_size,
         self.world_off, self.world_size) = self.h[:23]

    def world_at(self, field):
        """Absolute offset of a WorldRecord field."""
        return self._at(self.world_off) + field

    def set_kernel_release(self, release):
        at = self.world_at(WORLD_KERNEL_RELEASE)
        data = release.encode()[:WORLD_KERNEL_RELEASE_LEN - 1]
        self.raw[at:at + WORLD_KERNEL_RELEASE_LEN] = data + b"\0" * (WORLD_KERNEL_RELEASE_LEN - len(data))

    def xcr0(self):
        return struct.unpack_from("<Q", self.raw, self.world_at(WORLD_XCR0))[0]

    def set_xcr0(self, value):
        struct.pack_into("<Q", self.raw, self.world_at(WORLD_XCR0), value)

    def _at(self, rel):
        return self.meta_off + rel

    def string(self, ref):
        start = self._at(self.strings_off) + ref
        return bytes(self.raw[start:self.raw.index(b"\0", start)]).decode()

    def set_string(self, ref, value):
        """Same length only (the layout stays as it is)."""
        old = self.string(ref)
        assert len(value) == len(old), (value, old)
        start = self._at(self.strings_off) + ref
        self.raw[start:start + len(value)] = value.encode()

    def regions(self):
        for i in range(self.n_regions):
            off = self._at(self.regions_off) + i * REGION.size
            yield off, list(REGION.unpack_from(self.raw, off))

    def fds(self):
        off = self._at(self.fds_off)
        for _ in range(self.n_fds):
            rec = list(FD.unpack_from(self.raw, off))
            yield off, rec
            off += rec[1]  # record_size

    def put_region(self, off, fields):
        REGION.pack_into(self.raw, off, *fields)

    def put_fd(self, off, fields):
        FD.pack_into(self.raw, off, *fields)

    def save(self, path=None):
        """Recomputes the metadata and header checksums and writes the image."""
        meta = self.raw[self.meta_off:self.meta_off + self.meta_size]
        self.h[6] = xxh3(meta)
        self.h[-1] = 0
        HEADER.pack_into(self.raw, 0, *self.h)
        self.h[-1] = xxh3(self.raw[:HEADER.size])
        HEADER.pack_into(self.raw, 0, *self.h)
        with open(path or self.path, "r+b") as f:
            f.write(self.raw)
