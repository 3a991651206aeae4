#include "ckptctl_backtrace.h"

#include <elf.h>
#include <fcntl.h>
#include <libunwind.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include <cxxabi.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

// Part of libunwind (exported by libunwind-generic) but declared only in its private headers:
// the search of a binary search table (.eh_frame_hdr) in a remote address space.
extern "C" int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t, unw_word_t, unw_dyn_info_t *,
                                                  unw_proc_info_t *, int, void *);

namespace ckptctl {
namespace {

using namespace ckpt;
using namespace ckpt::image;

// A mapped ELF file: its bytes (mmap'd read-only), and what unwinding and symbols need.
struct Module {
    std::string path;
    const unsigned char *data = nullptr;
    size_t size = 0;
    uint64_t bias = 0;  // load address - ELF virtual address
    uint64_t eh_frame_hdr = 0, text_start = 0, text_end = 0;
    bool ok = false;
    ~Module()
    {
        if (data) munmap(const_cast<unsigned char *>(data), size);
    }

    template <typename T>
    const T *at(uint64_t off, uint64_t n = 1) const
    {
        return off <= size && n * sizeof(T) <= size - off ? reinterpret_cast<const T *>(data + off) : nullptr;
    }
};

// The image's memory at the checkpoint.
class ImageMemory {
public:
    explicit ImageMemory(const Image &img) : img_(img)
    {
        fd_ = ::open(img.path.c_str(), O_RDONLY | O_CLOEXEC);
    }
    ~ImageMemory()
    {
        if (fd_ >= 0) ::close(fd_);
    }

    bool read(uint64_t addr, void *out, size_t n)
    {
        auto *o = static_cast<unsigned char *>(out);
        while (n) {
            const RegionRecord *r = region(addr);
            if (!r) return false;
            const uint64_t page = (addr - r->start) / kPageSize, in_page = (addr - r->start) % kPageSize;
            const size_t chunk = std::min<uint64_t>(n, kPageSize - in_page);
            if (!read_page_part(*r, page, in_page, o, chunk)) return false;
            o += chunk;
            addr += chunk;
            n -= chunk;
        }
        return true;
    }

    const RegionRecord *region(uint64_t addr) const
    {
        for (const auto &r : img_.regions)
            if (addr >= r.start && addr < r.end) return &r;
        return nullptr;
    }

    Module *module_at(uint64_t ip)
    {
        const RegionRecord *r = region(ip);
        if (!r || r->kind != RegionKind::File || r->name == kNoString) return nullptr;
        const std::string path = img_.str(r->name);
        auto it = modules_.find(path);
        if (it != modules_.end()) return it->second.get();
        auto m = std::make_unique<Module>();
        m->path = path;
        load(*m);
        return modules_.emplace(path, std::move(m)).first->second.get();
    }

private:
    bool read_page_part(const RegionRecord &r, uint64_t page, uint64_t off, unsigned char *o, size_t n)
    {
        // A saved page: from the image (its runs in order, contiguous from data_offset).
        uint64_t index = 0;
        for (uint32_t k = 0; k < r.n_runs; ++k) {
            const PageRun &run = img_.runs[r.first_run + k];
            if (page >= run.first_page && page < run.first_page + run.n_pages) {
                const uint64_t at = r.data_offset + (index + page - run.first_page) * kPageSize + off;
                return fd_ >= 0 && ::pread(fd_, o, n, off_t(at)) == ssize_t(n);
            }
            index += run.n_pages;
        }
        if (r.kind == RegionKind::File && r.name != kNoString) {  // the rest: from the file
            Module *m = module_by_path(img_.str(r.name));
            const uint64_t at = r.file_offset + page * kPageSize + off;
            if (m && m->data && at + n <= m->size) {
                std::memcpy(o, m->data + at, n);
                return true;
            }
            return false;
        }
        std::memset(o, 0, n);  // never populated: zero
        return r.kind == RegionKind::Anonymous;
    }

    Module *module_by_path(const std::string &path)
    {
        auto it = modules_.find(path);
        if (it != modules_.end()) return it->second.get();
        auto m = std::make_unique<Module>();
        m->path = path;
        load(*m);
        return modules_.emplace(path, std::move(m)).first->second.get();
    }

    // Maps the file and finds its load bias (from the lowest mapping of offset 0), its
    // executable segment and .eh_frame_hdr.
    void load(Module &m)
    {
        int fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return;
        struct stat st{};
        if (::fstat(fd, &st) == 0 && st.st_size > 0) {
            void *p = mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                m.data = static_cast<const unsigned char *>(p);
                m.size = size_t(st.st_size);
            }
        }
        ::close(fd);
        const Elf64_Ehdr *eh = m.at<Elf64_Ehdr>(0);
        if (!eh || std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64) return;
        const Elf64_Phdr *ph = m.at<Elf64_Phdr>(eh->e_phoff, eh->e_phnum);
        if (!ph) return;
        uint64_t base = 0;
        bool have_base = false;
        for (const auto &r : img_.regions)
            if (r.kind == RegionKind::File && r.file_offset == 0 && img_.str(r.name) == m.path && !have_base) {
                base = r.start;
                have_base = true;
            }
        uint64_t first_vaddr = ~0ull;
        for (int i = 0; i < eh->e_phnum; ++i)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) first_vaddr = std::min<uint64_t>(first_vaddr, ph[i].p_vaddr);
        if (!have_base || first_vaddr == ~0ull) return;
        m.bias = base - (first_vaddr & ~(kPageSize - 1));
        for (int i = 0; i < eh->e_phnum; ++i) {
            if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X)) {
                m.text_start = m.bias + ph[i].p_vaddr;
                m.text_end = m.text_start + ph[i].p_memsz;
            }
            if (ph[i].p_type == PT_GNU_EH_FRAME) m.eh_frame_hdr = m.bias + ph[i].p_vaddr;
        }
        m.ok = m.eh_frame_hdr != 0;
    }

    const Image &img_;
    int fd_ = -1;
    std::map<std::string, std::unique_ptr<Module>> modules_;
};

// The symbol (function) of the module covering ip: .symtab, else .dynsym.
bool symbolize(const Module &m, uint64_t ip, std::string &name, uint64_t &offset)
{
    const Elf64_Ehdr *eh = m.at<Elf64_Ehdr>(0);
    if (!eh) return false;
    const Elf64_Shdr *sh = m.at<Elf64_Shdr>(eh->e_shoff, eh->e_shnum);
    if (!sh) return false;
    const uint64_t vaddr = ip - m.bias;
    for (uint32_t want : {uint32_t(SHT_SYMTAB), uint32_t(SHT_DYNSYM)}) {
        for (int i = 0; i < eh->e_shnum; ++i) {
            if (sh[i].sh_type != want || sh[i].sh_link >= eh->e_shnum || !sh[i].sh_entsize) continue;
            const Elf64_Shdr &strs = sh[sh[i].sh_link];
            const Elf64_Sym *syms = m.at<Elf64_Sym>(sh[i].sh_offset, sh[i].sh_size / sizeof(Elf64_Sym));
            if (!syms) continue;
            const Elf64_Sym *best = nullptr;
            for (uint64_t k = 0; k < sh[i].sh_size / sizeof(Elf64_Sym); ++k) {
                const Elf64_Sym &s = syms[k];
                if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value == 0 || s.st_value > vaddr) continue;
                if (s.st_size && vaddr >= s.st_value + s.st_size) continue;
                if (!best || s.st_value > best->st_value) best = &s;
            }
            if (best && best->st_name < strs.sh_size) {
                const char *n = m.at<char>(strs.sh_offset + best->st_name);
                if (!n) continue;
                name.assign(n, strnlen(n, size_t(strs.sh_size - best->st_name)));
                int status = 0;
                if (char *d = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status); d && status == 0) {
                    name = d;
                    std::free(d);
                }
                offset = vaddr - best->st_value;
                return true;
            }
        }
    }
    return false;
}

struct Remote {
    ImageMemory *mem;
    uint64_t regs[UNW_TDEP_LAST_REG + 1];
};

int find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need, void *arg)
{
    auto *r = static_cast<Remote *>(arg);
    Module *m = r->mem->module_at(ip);
    if (!m || !m->ok) return -UNW_ENOINFO;
    // .eh_frame_hdr: version, eh_frame_ptr_enc, fde_count_enc, table_enc, eh_frame_ptr (4),
    // fde_count (4), then the table (the standard encodings: udata4 count, datarel sdata4).
    unsigned char hdr[12];
    if (!r->mem->read(m->eh_frame_hdr, hdr, sizeof hdr) || hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b)
        return -UNW_ENOINFO;
    uint32_t fde_count;
    std::memcpy(&fde_count, hdr + 8, 4);
    unw_dyn_info_t di{};
    di.start_ip = m->text_start;
    di.end_ip = m->text_end;
    di.format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di.u.rti.segbase = m->eh_frame_hdr;
    di.u.rti.table_data = m->eh_frame_hdr + 12;
    di.u.rti.table_len = fde_count * 8 / sizeof(unw_word_t);
    return _Ux86_64_dwarf_search_unwind_table(as, ip, &di, pi, need, arg);
}

void put_unwind_info(unw_addr_space_t, unw_proc_info_t *pi, void *)
{
    std::free(pi->unwind_info);
    pi->unwind_info = nullptr;
}

int get_dyn_info_list_addr(unw_addr_space_t, unw_word_t *, void *) { return -UNW_ENOINFO; }

int access_mem(unw_addr_space_t, unw_word_t addr, unw_word_t *val, int write, void *arg)
{
    if (write) return -UNW_EINVAL;
    return static_cast<Remote *>(arg)->mem->read(addr, val, sizeof *val) ? 0 : -UNW_EINVAL;
}

int access_reg(unw_addr_space_t, unw_regnum_t reg, unw_word_t *val, int write, void *arg)
{
    auto *r = static_cast<Remote *>(arg);
    if (reg < 0 || reg > UNW_TDEP_LAST_REG) return -UNW_EBADREG;
    if (write) r->regs[reg] = *val;
    else *val = r->regs[reg];
    return 0;
}

int access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t *, int, void *) { return -UNW_EBADREG; }

int resume(unw_addr_space_t, unw_cursor_t *, void *) { return -UNW_EINVAL; }

}  // namespace

std::vector<Frame> thread_backtrace(const Image &img, const ThreadRecord &t, size_t max_frames)
{
    std::vector<Frame> out;
    if (!t.ucontext) return out;
    ImageMemory mem(img);
    ucontext_t uc;
    if (!mem.read(t.ucontext, &uc, sizeof uc)) return out;
    Remote remote{&mem, {}};
    const greg_t *g = uc.uc_mcontext.gregs;
    static const struct { int unw, greg; } kMap[] = {
        {UNW_X86_64_RAX, REG_RAX}, {UNW_X86_64_RDX, REG_RDX}, {UNW_X86_64_RCX, REG_RCX}, {UNW_X86_64_RBX, REG_RBX},
        {UNW_X86_64_RSI, REG_RSI}, {UNW_X86_64_RDI, REG_RDI}, {UNW_X86_64_RBP, REG_RBP}, {UNW_X86_64_RSP, REG_RSP},
        {UNW_X86_64_R8, REG_R8},   {UNW_X86_64_R9, REG_R9},   {UNW_X86_64_R10, REG_R10}, {UNW_X86_64_R11, REG_R11},
        {UNW_X86_64_R12, REG_R12}, {UNW_X86_64_R13, REG_R13}, {UNW_X86_64_R14, REG_R14}, {UNW_X86_64_R15, REG_R15},
        {UNW_X86_64_RIP, REG_RIP},
    };
    for (const auto &e : kMap) remote.regs[e.unw] = uint64_t(g[e.greg]);
    unw_accessors_t acc{};
    acc.find_proc_info = find_proc_info;
    acc.put_unwind_info = put_unwind_info;
    acc.get_dyn_info_list_addr = get_dyn_info_list_addr;
    acc.access_mem = access_mem;
    acc.access_reg = access_reg;
    acc.access_fpreg = access_fpreg;
    acc.resume = resume;
    unw_addr_space_t as = unw_create_addr_space(&acc, 0);
    if (!as) return out;
    unw_cursor_t cursor;
    if (unw_init_remote(&cursor, as, &remote) == 0) {
        for (size_t i = 0; i < max_frames; ++i) {
            unw_word_t ip = 0;
            if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0 || ip == 0) break;
            Frame f;
            f.ip = ip;
            // A return address points after the call: look the caller up one byte before it.
            const uint64_t lookup = i == 0 ? ip : ip - 1;
            if (Module *m = mem.module_at(lookup)) {
                f.module = m->path;
                if (symbolize(*m, lookup, f.function, f.offset) && i > 0) f.offset += 1;
            }
            out.push_back(f);
            if (unw_step(&cursor) <= 0) break;
        }
    }
    unw_destroy_addr_space(as);
    return out;
}

}  // namespace ckptctl
