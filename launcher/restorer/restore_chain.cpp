#include "restore_chain.h"

#include <unistd.h>

namespace ckpt::restorer {

ImageStatus open_chain(const Image &img, int image_fd, ChainSources &out)
{
    out = ChainSources{};
    out.fds.push_back(image_fd);
    if (ImageStatus s = read_chain(img, out.ancestors)) return s;
    if (out.ancestors.size() + 1 > PLAN_MAX_SOURCES)
        return {ImageError::ChainBroken, img.path + ": a chain of " + std::to_string(out.ancestors.size()) +
                                             " ancestors is longer than a restore can read"};
    std::vector<const Image *> chain{&img};
    for (const Image &a : out.ancestors) {
        // Inherited runs are read from an ancestor with one pread each (its stored runs one
        // after the other from the region's data_offset): raw blocks only. The writer makes
        // no increment while compression is on; an ancestor compressed anyway is refused.
        if (a.header.image_flags & image::kImageCompressed)
            return {ImageError::ChainBroken, img.path + ": its ancestor " + a.path +
                                                 " is compressed; increments of compressed images cannot be restored"};
        // Each link is checked as the image is: a damaged ancestor is a damaged image.
        if (ImageStatus s = verify_data(a)) return {ImageError::ChainBroken, "an ancestor is damaged: " + s.message};
        std::string why;
        const int fd = reopen_image(a, why);
        if (fd < 0) {
            for (size_t i = 1; i < out.fds.size(); ++i) ::close(out.fds[i]);
            out.fds.resize(1);
            return {ImageError::Untrusted, why};
        }
        out.fds.push_back(fd);
        chain.push_back(&a);
    }
    const ChainResolver resolver(chain);
    out.runs.resize(img.regions.size());
    std::vector<ChainPiece> pieces;
    for (size_t i = 0; i < img.regions.size(); ++i) {
        if (img.regions[i].kind == image::RegionKind::Special) continue;
        std::string why;
        if (!resolver.resolve_region(i, pieces, why)) {
            for (size_t k = 1; k < out.fds.size(); ++k) ::close(out.fds[k]);
            out.fds.resize(1);
            return {ImageError::ChainBroken, img.path + ": " + why};
        }
        for (const ChainPiece &p : pieces) out.runs[i].push_back({p.first_page, p.n_pages, p.offset, p.src, 0});
        out.n_runs += pieces.size();
    }
    return {};
}

}  // namespace ckpt::restorer
