// Reading and validating checkpoint images, with libc and the C++ library: used by the
// restorer before it tears anything down, by ckptctl, the launcher and the tests. Never used
// inside the checkpoint handler.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image_format.h"

namespace ckpt {

enum class ImageError {
    None = 0,
    Missing,         // no such file
    Io,              // read error
    Truncated,       // shorter than its header says, or shorter than a header
    BadMagic,        // not a ckpt image
    BadVersion,      // a format version this build does not read
    HeaderChecksum,
    MetaChecksum,
    BadLayout,       // checksums fine but offsets or counts inconsistent
    DataChecksum,    // page data of a region does not match
    FileChanged,     // a file the image refers to is not the one it was taken with
    FileMissing,     // a file the image refers to no longer exists
    Untrusted,       // not owned by the reading user with mode 0600 (trusted_file.h)
    Incompatible,    // taken on another kernel, CPU or glibc build (world.h)
    AttrsRefused,    // process attributes this user cannot give back (process_attrs.h)
    ChainBroken,     // an incremental image's parent is missing, damaged or not the one it names
};

const char *image_error_name(ImageError e);

struct ImageStatus {
    ImageError code = ImageError::None;
    std::string message;
    explicit operator bool() const { return code != ImageError::None; }
};

// One descriptor record (image_format.h, FdCommon): its common fields and its kind's payload.
struct FdEntry {
    image::FdCommon c{};
    std::string payload;  // c.payload_size bytes
};

// The descriptor section as the image holds it (and the restorer hands it to the runtime):
// each record FdCommon + payload, padded to 8 bytes; record_size and payload_size set here.
std::string encode_fd_section(const std::vector<FdEntry> &fds);

struct Image {
    std::string path;
    uint64_t dev = 0, ino = 0;  // the file read_image checked: later opens must find the same
    image::ImageHeader header{};
    image::ProcessRecord process{};
    std::vector<image::RegionRecord> regions;
    std::vector<image::PageRun> runs;
    std::vector<FdEntry> fds;  // format 1-2 records are converted (image_format.h)
    std::vector<image::SigactionRecord> sigactions;
    std::vector<image::ThreadRecord> threads;  // empty: one thread (formats 1-3)
    std::string strings;
    // Format 4 (empty / false before): the process-attributes section as the image holds it
    // (process_attrs.h parses it), and the world it was taken in (world.h).
    std::string attrs;
    bool has_world = false;
    image::WorldRecord world{};
    // Format 6: the page data's blocks (each region's slice: first_block, n_blocks) and what
    // the checkpoint cost (has_stats false before).
    std::vector<image::BlockRecord> blocks;
    bool has_stats = false;
    image::CheckpointStats stats{};

    std::string str(image::StrRef ref) const;
};

class ByteSource;

// Header and metadata, with their checksums and structural checks. Cheap. The image must be
// owned by the effective user with mode 0600 (else ImageError::Untrusted).
ImageStatus read_image(const std::string &path, Image &out);
// The same from an open file or a buffer (byte_source.h); `path` names it in messages.
// `dev`/`ino`: the identity of the file it came from, if any (Image::dev/ino).
ImageStatus read_image(const ByteSource &src, const std::string &path, Image &out, uint64_t dev = 0, uint64_t ino = 0);

// Every region's page data against its checksum (format 6: every block, decompressed where
// compressed, against its own). Reads the whole image.
ImageStatus verify_data(const Image &img);
// The same over the image's bytes in memory (`size` bytes from offset 0).
ImageStatus verify_data(const Image &img, const void *image, uint64_t size);

// Files kept by reference (mapped executables and libraries, shared file mappings) must still
// be the same files (device, inode, size, mtime), a writable shared mapping must be of a regular
// file the user may open for writing, and files the program had open must still be the same
// files (device, inode).
// `open_files`: also the files the program had open (not before a recovery has undone the
// file changes: a file deleted after the checkpoint comes back then).
ImageStatus verify_files(const Image &img, bool open_files = true);

// Whether this process can restore the image here: the world it was taken in (world.h:
// ImageError::Incompatible) and the process attributes this user can give back
// (process_attrs.h: ImageError::AttrsRefused), each message naming what differs. Images of
// formats 1-3 record neither and pass. `same_process`: rollback(), which restores over the
// process that holds the image's file locks.
ImageStatus verify_restorable(const Image &img, bool same_process = false);

// Opens the image again (for its page data) and checks that it is still the file read_image
// checked. -1 with `why` otherwise.
int reopen_image(const Image &img, std::string &why);

// All three.
ImageStatus verify_image(const std::string &path, Image &out);

}  // namespace ckpt
