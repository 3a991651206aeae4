// The on-disk checkpoint image: the one contract between capture (libckpt.so), the restorer,
// ckptctl and the launcher. Plain fixed-width structs, little-endian (x86-64 only), no
// pointers. docs/image-format.md describes the same layout in prose; keep the two in step.
//
//   offset 0            ImageHeader (one page)
//   meta_offset         metadata: ProcessRecord, RegionRecord[n_regions], PageRun[n_runs],
//                       fd records[n_fds], SigactionRecord[n_sigactions], string table,
//                       process attributes (format 4), world record (format 4),
//                       ThreadRecord[n_threads] (format 5)
//   data_offset (page)  page data of every region, each region's pages contiguous and
//                       page-aligned, in the order of its runs
//
// The header is written last, so a torn image has no valid header. Every byte that matters
// is covered by a checksum (XXH3-64): the header by header_checksum, the metadata by
// meta_checksum, each region's page data by RegionRecord::data_checksum.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::image {

inline constexpr char kMagic[8] = {'C', 'K', 'P', 'T', 'I', 'M', 'G', '\0'};
// 2: ProcessRecord::command_id (was padding). Readers accept 1 too (no command identity).
// 3: descriptors as tagged variable-length records (FdCommon + payload); 1-2 are converted.
// 4: the header gains the process-attributes and world sections (ImageHeaderV3 before).
// 5: a thread section (ThreadRecord[n_threads]) after the world record (ImageHeaderV4 before).
// 6: page data in blocks (BlockRecord), raw or zstd, each with its checksum; CheckpointStats.
inline constexpr uint32_t kFormatVersion = 6;
inline constexpr uint32_t kOldestFormatVersion = 1;
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint32_t kNoString = 0xffffffffu;  // a StrRef that names nothing

using StrRef = uint32_t;  // byte offset into the string table

// Callee-saved state of the point where the checkpoint was taken (setjmp-style). The rest of
// the interrupted program's registers live in the kernel's signal frame on the saved stack.
struct CpuContext {
    uint64_t rbx, rbp, r12, r13, r14, r15;
    uint64_t rsp;  // stack pointer after ckpt_context_save returns
    uint64_t rip;  // where ckpt_context_save returns to
    uint32_t mxcsr;
    uint16_t fpu_cw;
    uint16_t pad;
};
static_assert(sizeof(CpuContext) == 72);

// Memory-descriptor fields the kernel keeps about the process (/proc/PID/stat), restored with
// prctl(PR_SET_MM_MAP) so that brk() and /proc look as before.
struct MmLayout {
    uint64_t start_code, end_code, start_data, end_data;
    uint64_t start_brk, brk, start_stack;
    uint64_t arg_start, arg_end, env_start, env_end;
};

// Statistics of the capture that produced the image (CRIU-style per-run numbers).
struct CaptureStats {
    uint64_t pause_ns;       // signal handler entry until the image was complete on disk
    uint64_t scan_ns;        // reading maps, pagemap, descriptors
    uint64_t write_ns;       // writing page data
    uint64_t sync_ns;        // fsync of image and directory
    uint64_t pages_written;  // pages of memory copied into the image
    uint64_t pages_skipped;  // pages never populated (or unmodified file pages), not copied
};

struct ProcessRecord {
    uint64_t checkpoint_version;  // the N of ckpt-N.img
    uint64_t created_realtime_ns;
    int32_t pid;
    int32_t signal;        // the checkpoint signal
    uint32_t umask;
    uint32_t tid_offset;   // offset of glibc's cached tid in the TCB, 0 = unknown
    CpuContext context;
    uint64_t fs_base;
    uint64_t rseq_addr;    // 0: no rseq area registered
    uint32_t rseq_len;
    uint32_t rseq_sig;
    uint64_t handler_sigmask;   // signal mask in effect inside the checkpoint handler
    uint64_t altstack_sp;
    uint64_t altstack_size;
    int32_t altstack_flags;
    uint32_t flags;        // ProcessFlags (padding before: older images read as 0)
    MmLayout mm;
    uint64_t restore_info_addr;  // where the restorer writes its RestoreInfo
    StrRef exe_path;
    StrRef cwd;
    StrRef cmdline;  // argv joined by spaces, for humans
    // The command the job was started with, as 16 hex digits (launcher/command_identity.h):
    // a recovery refuses an image of another command. kNoString: unknown (format 1).
    StrRef command_id;
    CaptureStats stats;
};

enum ProcessFlags : uint32_t {
    // pct-N.log (N = checkpoint_version) was started, and the previous epoch's log sealed,
    // before this image was committed (runtime/persistent/pct_format.h).
    kProcEpochLog = 1u << 0,
};

enum class RegionKind : uint32_t {
    Anonymous = 0,  // private or shared anonymous memory, heap, stack, deleted files
    File = 1,       // backed by a file that still exists; anonymous pages saved, others by reference
    Special = 2,    // made by the kernel ([vdso], [vvar], ...): moved, never saved
};

enum RegionFlags : uint32_t {
    kRegionShared = 1u << 0,
    kRegionStack = 1u << 1,  // the main stack: restored with MAP_GROWSDOWN
    kRegionHeap = 1u << 2,
};

struct RegionRecord {
    uint64_t start, end;
    uint32_t prot;  // PROT_READ | PROT_WRITE | PROT_EXEC
    uint32_t flags; // RegionFlags
    RegionKind kind;
    StrRef name;     // path or [name] as /proc/PID/maps shows it; kNoString when anonymous
    uint64_t file_offset;
    uint64_t file_dev, file_ino, file_size;
    int64_t file_mtime_ns;
    uint32_t first_run, n_runs;  // PageRun slice of this region's saved pages
    uint64_t data_offset;        // image offset of the first saved page (format 6: of its first block)
    uint64_t data_pages;         // number of pages stored in this image (not inherited)
    uint64_t data_checksum;      // XXH3-64 of the saved pages, in order (format 6: 0, blocks have theirs)
    // Format 6: the region's BlockRecord slice and the pages its inherited runs cover.
    uint32_t first_block, n_blocks;
    uint64_t inherited_pages;
};
static_assert(sizeof(RegionRecord) == 120);
struct RegionRecordV5 {  // formats 1-5; the reader converts it
    uint64_t start, end;
    uint32_t prot, flags;
    RegionKind kind;
    StrRef name;
    uint64_t file_offset;
    uint64_t file_dev, file_ino, file_size;
    int64_t file_mtime_ns;
    uint32_t first_run, n_runs;
    uint64_t data_offset, data_pages, data_checksum;
};
static_assert(sizeof(RegionRecordV5) == 104);

struct PageRun {
    uint64_t first_page;  // page index within the region
    uint32_t n_pages;
    // PageRunFlags (format 6; the high half of a 64-bit n_pages before, so older images read 0)
    uint32_t flags;
};
static_assert(sizeof(PageRun) == 16);

enum PageRunFlags : uint32_t {
    // Format 6, incremental images: the pages are present but unchanged since the parent
    // checkpoint; their bytes are not in this image but in the parent chain (the newest
    // ancestor whose run for the same address is not inherited). Data blocks cover only the
    // runs without this flag.
    kRunInherited = 1u << 0,
};

// Descriptor kinds in the image (runtime/fd/: one file per kind, fd_kind.h the table).
// Kinds that are refused at capture (sockets, namespaces, eventfd, ...) never reach an image.
enum class FdKind : uint32_t {
    RegularFile = 0,
    Directory = 1,
    CharDevice = 2,  // /dev/null, /dev/urandom, ...
    Terminal = 3,
    SelfPipe = 4,    // a pipe with both ends in this process (format 1-2: "Pipe")
    Inherited = 5,   // inherited at start and not reopenable: restored as /dev/null (standalone)
    // Descriptor 0-2 as the launcher handed it over (terminal, pipe, socket, its own file):
    // taken from the new launcher at a restore, a regular file's offset kept if it is the same
    // file. A 0-2 the program pointed at another regular file (freopen, dup2) is RegularFile.
    Standard = 6,
    // Kernel objects re-created at a restore with their state (issue 10).
    Eventfd = 7,
    Timerfd = 8,
    Signalfd = 9,
    Epoll = 10,     // its interest list re-armed once every descriptor is back
    Inotify = 11,   // its watches re-added by path, in watch-descriptor order
    Memfd = 12,     // contents, seals and the shared mappings of it
    ListenSocket = 13,  // a listening TCP or unix stream socket: bound and listening again
};

// Format 3: the descriptor section (n_fds records from fds_offset) is a sequence of tagged
// variable-length records: FdCommon, then payload_size bytes of the kind's payload, padded so
// that record_size is a multiple of 8. A reader skips a payload it does not know by size.
struct FdCommon {
    FdKind kind;
    uint32_t record_size;  // sizeof(FdCommon) + payload_size, rounded up to 8
    int32_t fd;
    uint32_t open_flags;   // F_GETFL (of the open file description)
    uint32_t flags;        // FdFlags (of the descriptor)
    // Index (in this section) of the first record that refers to the same open file
    // description (dup, dup2, fork-inherited); the record's own index if none. Such records
    // are restored as one open and dups, so that they share offset and status flags.
    uint32_t shares_with;
    int64_t offset;        // -1: not seekable
    uint64_t dev, ino;
    StrRef path;           // /proc/self/fd link text
    uint32_t payload_size;
};
static_assert(sizeof(FdCommon) == 56);

enum FdFlags : uint32_t {
    kFdCloexec = 1u << 0,
};

// Kind payloads (the kinds not listed have none).
struct FdSelfPipePayload {
    uint32_t pipe_size;  // F_GETPIPE_SZ of the pipe
    // A read end: the bytes it held unread, which follow this header (0 in images before
    // they were saved, where this was padding).
    uint32_t unread;
};
// Inherited and Standard: what the descriptor was, for ckptctl inspect.
struct FdOriginPayload {
    uint32_t st_mode;  // S_IFIFO, S_IFSOCK, S_IFCHR, ...
    uint32_t pad;
};

struct FdEventfdPayload {
    uint64_t count;      // fdinfo eventfd-count (not read, so not consumed)
    uint32_t semaphore;  // EFD_SEMAPHORE
    uint32_t pad;
};
struct FdTimerfdPayload {
    int32_t clockid;
    uint32_t settime_flags;   // TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET
    uint64_t ticks;           // expirations not yet read
    // The next expiry: with TFD_TIMER_ABSTIME the absolute time on clockid, else the time
    // left at the checkpoint (0, 0: disarmed).
    int64_t value_sec, value_nsec;
    int64_t interval_sec, interval_nsec;
};
struct FdSignalfdPayload {
    uint64_t sigmask;  // as the kernel has it (ckpt's own signal never in it)
};
// Epoll: n entries follow the header.
struct FdEpollPayload {
    uint32_t n;
    uint32_t pad;
};
struct FdEpollEntry {
    int32_t tfd;      // the watched descriptor's number
    uint32_t events;  // with EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE, EPOLLWAKEUP
    uint64_t data;
};
// Inotify: n watches follow the header, in watch-descriptor order, each an FdInotifyWatch
// and its path (path_len bytes and a NUL, padded to 8).
struct FdInotifyPayload {
    uint32_t n;
    uint32_t pad;
};
struct FdInotifyWatch {
    int32_t wd;
    uint32_t mask;        // as the kernel has it (events, IN_ONESHOT, IN_EXCL_UNLINK)
    uint32_t add_flags;   // IN_DONT_FOLLOW | IN_ONLYDIR as the program asked
    uint32_t path_len;
    uint64_t dev, ino;    // the watched object (st_dev, st_ino)
};
inline constexpr uint32_t kMemfdMaxMappings = 16;
struct FdMemfdMapping {
    uint64_t start, end, offset;
    uint32_t prot;
    uint32_t pad;
};
struct FdMemfdPayload {
    uint64_t size;           // st_size
    // Where the image holds the contents: a read-only shared region ckpt mapped at the
    // checkpoint (restored by the blob, unmapped after the copy). 0: empty, or an earlier
    // record of the same memfd (another open of it) has them.
    uint64_t contents_addr;
    uint32_t seals;          // F_GET_SEALS
    uint32_t mode;           // st_mode & 07777
    uint32_t n_mappings;     // the program's MAP_SHARED mappings of this memfd
    uint32_t pad;
    FdMemfdMapping mappings[kMemfdMaxMappings];
};

// ListenSocket: what a new socket needs to be the same listener. The options are those the
// kind restores (kind_listen_socket.cpp), as getsockopt gave them; a restore sets only those
// that differ from a new socket's.
inline constexpr uint32_t kMaxSockOptions = 32;
struct FdSockOption {
    int32_t level, name;
    uint32_t len;  // bytes of value used
    uint32_t pad;
    uint8_t value[16];
};
struct FdListenSocketPayload {
    int32_t family;    // AF_INET, AF_INET6, AF_UNIX
    int32_t type;      // SO_TYPE (SOCK_STREAM)
    int32_t protocol;  // SO_PROTOCOL
    int32_t backlog;   // as the program passed it to listen()
    uint32_t addr_len; // getsockname
    uint32_t n_options;
    uint8_t addr[128];
    // A unix socket bound to a path: the socket file as it was at the checkpoint (0, 0: there
    // was none there), and its permission bits.
    uint64_t file_dev, file_ino;
    uint32_t file_mode;
    uint32_t pad;
    FdSockOption options[kMaxSockOptions];
};

// Formats 1 and 2: fixed records, converted by the reader.
struct LegacyFdRecord {
    int32_t fd;
    uint32_t kind;  // 0-3 as FdKind, 4 pipe, 5 socket, 6 other
    uint32_t open_flags;
    uint32_t cloexec;
    int64_t offset;
    uint64_t dev, ino;
    StrRef path;
    uint32_t flags;  // 1: inherited
};

struct SigactionRecord {
    int32_t signo;
    uint32_t pad;
    uint64_t handler, flags, restorer, mask;  // the kernel's struct sigaction
};

enum ThreadFlags : uint32_t {
    kThreadMain = 1u << 0,         // the thread group leader (tid == pid)
    kThreadCoordinator = 1u << 1,  // took the checkpoint: its context is ProcessRecord::context
};

// One thread of the process, stopped in the checkpoint handler (runtime/threads.h). Its
// interrupted registers and full xsave state are in the kernel's signal frame on its stack
// (at `ucontext`), which is memory like any other and comes back with rt_sigreturn; the
// context here is where its handler resumes. The rest is the per-thread kernel state that is
// not memory. ip/sp/syscall repeat the frame for readers (ckptctl inspect).
struct ThreadRecord {
    int32_t tid;
    uint32_t flags;  // ThreadFlags
    CpuContext context;
    uint64_t fs_base;
    uint64_t rseq_addr;  // 0: none registered
    uint32_t rseq_len, rseq_sig;
    uint64_t robust_list, robust_len;  // set_robust_list()
    uint64_t clear_child_tid;          // set_tid_address() (PR_GET_TID_ADDRESS)
    uint64_t altstack_sp, altstack_size;
    int32_t altstack_flags;
    int32_t sched_policy;  // SCHED_* with SCHED_RESET_ON_FORK, -1 unknown
    int32_t sched_priority;
    int32_t nice;
    uint64_t sigmask;   // the mask the thread ran with when it was stopped (kernel view)
    uint64_t ucontext;  // address of its signal frame's ucontext_t
    uint64_t ip, sp, bp;
    int64_t syscall;    // the system call it was in and the kernel restarts; -2: one the stop
                        // ended with EINTR (number unknown); -1: none
    char comm[16];
    uint64_t stop_ns;  // coordinator: time it took to stop every other thread (0 for others)
    uint64_t reserved[3];
};
static_assert(sizeof(ThreadRecord) == 256);
inline constexpr uint32_t kMaxImageThreads = 4096;

// Format 6: the saved pages of a region are stored as blocks of at most kBlockPages pages (a
// block never spans two regions), in run order, each raw or compressed on its own and
// checked on its own. The reader presents older images as one raw block per region.
inline constexpr uint32_t kBlockPages = 64;  // 256 KiB of memory per block
enum class BlockCodec : uint32_t {
    Raw = 0,   // stored_size == raw_size, the bytes as they were in memory
    Zstd = 1,  // one zstd frame that decompresses to raw_size bytes
};
struct BlockRecord {
    uint64_t stored_offset;  // image offset of the stored bytes
    uint32_t stored_size;
    uint32_t raw_size;       // pages * kPageSize
    BlockCodec codec;
    uint32_t pad;
    uint64_t checksum;       // XXH3-64 of the raw (decompressed) bytes
};
static_assert(sizeof(BlockRecord) == 32);

enum ImageFlags : uint32_t {
    kImageIncremental = 1u << 0,  // parent_version names the image its inherited runs refer to
    kImageCompressed = 1u << 1,   // some block is not Raw
    kImageForked = 1u << 2,       // written by a forked writer while the program ran on
};

// Format 6: what one checkpoint cost, for ckptctl inspect and the benchmarks. Times in ns.
struct CheckpointStats {
    uint32_t record_size;  // sizeof(CheckpointStats) at the writer; readers take what they know
    uint32_t writer_threads;
    uint64_t stop_ns;      // handler entry until every thread was stopped
    uint64_t fork_ns;      // the fork of a forked checkpoint (0: synchronous)
    uint64_t scan_ns;      // maps, pagemap, PAGEMAP_SCAN, descriptors
    uint64_t pause_ns;     // handler entry until the program ran on
    uint64_t write_ns;     // page data (with compression) written
    uint64_t compress_ns;  // CPU time spent compressing (summed over writer threads)
    uint64_t sync_ns;      // fsync of the image and its directory
    uint64_t total_ns;     // handler entry until committed
    uint64_t pages_present;    // pages of memory the checkpoint covered
    uint64_t pages_written;    // pages stored in this image
    uint64_t pages_inherited;  // pages present but unchanged since the parent (incremental)
    uint64_t pages_excluded;   // pages in ckpt_exclude_memory ranges, not saved
    uint64_t raw_bytes;        // bytes of page data before compression
    uint64_t stored_bytes;     // bytes of page data in the image
    uint64_t reserved[4];
};

// Formats 1-3: the header without the attribute and world sections; the reader converts it.
struct ImageHeaderV3 {
    char magic[8];
    uint32_t format_version;
    uint32_t header_size;
    uint64_t image_size;
    uint64_t meta_offset, meta_size, meta_checksum;
    uint64_t data_offset, data_size;
    // Offsets of the metadata sections, relative to meta_offset.
    uint64_t regions_offset, runs_offset, fds_offset, sigactions_offset, strings_offset;
    uint32_t n_regions, n_runs, n_fds, n_sigactions;
    uint64_t strings_size;
    uint64_t header_checksum;  // XXH3-64 of this struct with this field zero
};


// Format 4: the header without the thread section; the reader converts it.
struct ImageHeaderV4 {
    char magic[8];
    uint32_t format_version;
    uint32_t header_size;
    uint64_t image_size;
    uint64_t meta_offset, meta_size, meta_checksum;
    uint64_t data_offset, data_size;
    // Offsets of the metadata sections, relative to meta_offset.
    uint64_t regions_offset, runs_offset, fds_offset, sigactions_offset, strings_offset;
    uint32_t n_regions, n_runs, n_fds, n_sigactions;
    uint64_t strings_size;
    // Format 4 (relative to meta_offset, like the others).
    uint64_t attrs_offset, attrs_size;  // ProcessAttrsRecord and what follows it
    uint64_t world_offset, world_size;  // WorldRecord
    uint64_t header_checksum;  // XXH3-64 of this struct with this field zero
};

struct ImageHeader {
    char magic[8];
    uint32_t format_version;
    uint32_t header_size;
    uint64_t image_size;
    uint64_t meta_offset, meta_size, meta_checksum;
    uint64_t data_offset, data_size;
    // Offsets of the metadata sections, relative to meta_offset.
    uint64_t regions_offset, runs_offset, fds_offset, sigactions_offset, strings_offset;
    uint32_t n_regions, n_runs, n_fds, n_sigactions;
    uint64_t strings_size;
    // Format 4 (relative to meta_offset, like the others).
    uint64_t attrs_offset, attrs_size;  // ProcessAttrsRecord and what follows it
    uint64_t world_offset, world_size;  // WorldRecord
    // Format 5: ThreadRecord[n_threads] at meta + threads_offset, after the world record
    // (0 threads: formats 1-4, one thread whose state is the ProcessRecord's).
    uint64_t threads_offset;
    uint32_t n_threads;
    uint32_t thread_record_size;  // sizeof(ThreadRecord)
    // Format 6 (offsets relative to meta_offset): the block table and the statistics.
    uint64_t blocks_offset;
    uint32_t n_blocks;
    uint32_t block_record_size;  // sizeof(BlockRecord)
    uint64_t stats_offset, stats_size;
    uint32_t image_flags;        // ImageFlags
    uint32_t chain_depth;        // 0: a full image; else 1 + the parent's
    uint64_t parent_version;     // 0: none
    uint64_t parent_checksum;    // the parent's header_checksum: a replaced parent is not it
    uint64_t header_checksum;  // XXH3-64 of this struct with this field zero
};
static_assert(sizeof(ImageHeader) == sizeof(ImageHeaderV4) + 16 + 56);


// Process attributes (format 4; runtime/process_attrs.h captures and restores them). The
// section: ProcessAttrsRecord, then ThreadAttrsRecord[n_threads], PosixTimerRecord[n_timers],
// PendingSignalRecord[n_pending], FileLockRecord[n_locks], each array 8-byte aligned.
inline constexpr uint32_t kMaxGroups = 64;
inline constexpr uint32_t kNumRlimits = 16;  // RLIMIT_CPU .. RLIMIT_RTTIME

struct RlimitRecord {
    uint64_t cur, max;  // RLIM_INFINITY as the kernel has it
};

struct ItimerRecord {  // setitimer(2): ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
    uint64_t interval_ns, value_ns;
};

enum AttrsFlags : uint32_t {
    kAttrsSessionLeader = 1u << 0,  // sid == pid at the checkpoint
    kAttrsGroupLeader = 1u << 1,    // pgid == pid
    kAttrsNoNewPrivs = 1u << 2,
    kAttrsTimerIdsKept = 1u << 3,   // PR_TIMER_CREATE_RESTORE_IDS was on (the program's own)
    kAttrsNotDumpable = 1u << 4,    // PR_GET_DUMPABLE was 0
};

struct ProcessAttrsRecord {
    uint32_t record_size;  // sizeof(ProcessAttrsRecord) at the writer
    uint32_t flags;        // AttrsFlags
    uint32_t ruid, euid, suid, fsuid;
    uint32_t rgid, egid, sgid, fsgid;
    uint32_t n_groups;
    uint32_t securebits;
    uint32_t groups[kMaxGroups];
    uint64_t cap_effective, cap_permitted, cap_inheritable, cap_bounding, cap_ambient;
    int32_t nice;
    uint32_t personality;
    int32_t pid, pgid, sid;
    int32_t pdeathsig;     // the program's own PR_SET_PDEATHSIG (ckpt uses the kernel's)
    RlimitRecord rlimits[kNumRlimits];
    // What the process was given (at its start or its last restore, by the launcher's
    // environment: `ulimit`): a limit still equal to it is the environment's, and a restore
    // gives the new environment's instead (a job resumed under a larger `ulimit -v` gets it);
    // one the program changed comes back as it was.
    RlimitRecord inherited_rlimits[kNumRlimits];
    ItimerRecord itimers[3];
    uint32_t n_threads, n_timers, n_locks, n_pending;
};

// Per thread (one today): what a thread has of its own besides registers.
struct ThreadAttrsRecord {
    int32_t tid;
    uint32_t pad;
    char comm[16];  // PR_GET_NAME
};

// A POSIX timer (timer_create): recreated with the same id (PR_TIMER_CREATE_RESTORE_IDS).
struct PosixTimerRecord {
    int32_t id;
    int32_t clock;        // clockid_t
    int32_t notify;       // SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD_ID (to the thread below)
    int32_t signo;
    uint64_t value;       // sigev_value
    int32_t notify_tid;   // SIGEV_THREAD_ID: the tid at the checkpoint
    uint32_t pad;
    uint64_t interval_ns, value_ns;  // timer_gettime: 0 value = disarmed
};

enum class LockKind : uint32_t { Flock = 0, Posix = 1, Ofd = 2 };

struct FileLockRecord {
    int32_t fd;
    LockKind kind;
    uint32_t type;   // F_RDLCK, F_WRLCK (flock: LOCK_SH as F_RDLCK, LOCK_EX as F_WRLCK)
    uint32_t pad;
    int64_t start;
    int64_t len;     // 0: to the end of the file
};

// A pending signal, dequeued at the checkpoint and queued again (capture and restore).
struct PendingSignalRecord {
    int32_t signo;
    uint32_t thread;       // 1: directed at the thread (tkill, a fault), 0: at the process
    uint8_t siginfo[128];  // siginfo_t
};

// The world the image was taken in (format 4; runtime/world.h captures and checks it).
struct WorldRecord {
    uint32_t record_size;
    uint32_t rseq_feature_size;  // AT_RSEQ_FEATURE_SIZE (0: not told)
    char kernel_release[65];     // uname -r
    char glibc_version[31];      // gnu_get_libc_version()
    uint8_t libc_build_id[32];   // NT_GNU_BUILD_ID of the libc mapped
    uint32_t libc_build_id_len;
    uint32_t pad;
    uint64_t xcr0;               // xgetbv(0): the XSAVE features the kernel enabled
    uint64_t vdso_hash;          // XXH3-64 of the [vdso] mapping's bytes
    uint64_t vdso_size;
    // CPUID feature bits a program may have tested: leaf 1 ecx/edx, leaf 7.0 ebx/ecx/edx,
    // leaf 0xd.1 eax, leaf 0x80000001 ecx/edx.
    uint32_t cpuid[8];
};

}  // namespace ckpt::image
