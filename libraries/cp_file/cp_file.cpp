// The cp_* API (include/ckp/cp_file.h): a stdio stream plus its entry in the checkpoint store.
#include <ckp/cp_file.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/file_io.h"
#include "../common/kill_point.h"
#include "store.h"

struct cp_file {
    FILE *fp = nullptr;
    std::string key;  // absolute path: the store's name of the file
    void *userdata = nullptr;
    bool writing = false;
};

namespace {

struct Hooks {
    int (*ins)(char *, void **) = nullptr;
    int (*upd)(char *, fpos_t, void *) = nullptr;
    int (*qry)(char *, fpos_t *, void **) = nullptr;
    int (*com)() = nullptr;
    int (*rbk)() = nullptr;
    int (*ini)() = nullptr;
    int (*fin)() = nullptr;
    int (*done)(char *, void *) = nullptr;
};

Hooks hooks;
int open_files = 0;  // ini before the first, fin after the last

// A store hook's call: a store of this library that runs out of memory (std::bad_alloc) fails
// the hook, and the cp_* call reports ENOMEM instead of EIO (store_error()).
bool hook_oom = false;
template <class F> int hook(F &&f)
{
    try {
        return f();
    } catch (const std::bad_alloc &) {
        hook_oom = true;
        return -1;
    }
}
int store_error()
{
    const int e = hook_oom ? ENOMEM : EIO;
    hook_oom = false;
    return e;
}

char *key_of(cp_file *f) { return f->key.data(); }

// Stages the file's current position and commits it: the document's "update the file's position
// in the checkpoint store"; on failure the store's transaction is rolled back.
int record_position(cp_file *f, bool completed)
{
    fpos_t pos;
    if (fgetpos(f->fp, &pos) != 0) return -1;
    hook_oom = false;
    int rc = hook([&] {
        return completed && hooks.done ? hooks.done(key_of(f), f->userdata) : hooks.upd(key_of(f), pos, f->userdata);
    });
    if (rc == 0 && ckp::kill_point("cp.check.staged")) ckp::die_here();  // inside the transaction
    if (rc == 0) rc = hook([] { return hooks.com(); });
    if (rc != 0) {
        hook([] { return hooks.rbk(); });
        errno = store_error();
        return -1;
    }
    return 0;
}

int flush_durably(cp_file *f)
{
    if (!f->writing) return 0;
    if (fflush(f->fp) != 0) return -1;
    if (ckp::kill_point("cp.check.flushed")) ckp::die_here();  // data written, not yet durable
    return fdatasync(fileno(f->fp)) == 0 ? 0 : -1;
}

bool valid_mode(const char *mode, char &kind)
{
    if (!mode || !*mode || !std::strchr("rwa", mode[0])) return false;
    for (const char *p = mode + 1; *p; ++p)
        if (*p != 'b') return false;
    kind = mode[0];
    return true;
}

int ensure_store()
{
    if (!hooks.ins && ckp::cp::use_sqlite(ckp::cp::default_sqlite_path()) != 0) return -1;
    hook_oom = false;
    if (open_files == 0 && hook([] { return hooks.ini(); }) != 0) {
        errno = store_error();
        return -1;
    }
    return 0;
}

void release_store()
{
    if (open_files == 0) hook([] { return hooks.fin(); });
}

// Opens a file the store has an entry for, at its checked position.
FILE *resume(const std::string &path, char kind, const fpos_t &pos)
{
    FILE *fp = std::fopen(path.c_str(), kind == 'r' ? "rbe" : "r+be");
    if (!fp) return nullptr;
    struct stat st{};
    if (fsetpos(fp, &pos) != 0 || fstat(fileno(fp), &st) != 0) {
        std::fclose(fp);
        return nullptr;
    }
    const off_t checked = ftello(fp);
    if (checked < 0 || st.st_size < checked) {
        std::fclose(fp);
        errno = ESTALE;
        return nullptr;
    }
    // What the crashed run wrote after its last cp_check is not part of the file.
    if (kind != 'r' && st.st_size > checked && (ftruncate(fileno(fp), checked) != 0 || fdatasync(fileno(fp)) != 0)) {
        std::fclose(fp);
        return nullptr;
    }
    return fp;
}

}  // namespace

extern "C" {

int cp_hooks(int (*ins)(char *, void **), int (*upd)(char *, fpos_t, void *), int (*qry)(char *, fpos_t *, void **),
             int (*com)(void), int (*rbk)(void), int (*ini)(void), int (*fin)(void))
{
    if (!ins || !upd || !qry || !com || !rbk || !ini || !fin) {
        errno = EINVAL;
        return -1;
    }
    if (open_files > 0) {
        errno = EBUSY;
        return -1;
    }
    hooks = Hooks{ins, upd, qry, com, rbk, ini, fin, nullptr};
    return 0;
}

int cp_hooks_done(int (*done)(char *, void *))
{
    if (open_files > 0) {
        errno = EBUSY;
        return -1;
    }
    hooks.done = done;
    return 0;
}

int cp_use_sqlite_store(const char *db_path)
{
    if (db_path && !*db_path) {
        errno = EINVAL;
        return -1;
    }
    if (open_files > 0) {
        errno = EBUSY;
        return -1;
    }
    return ckp::cp::use_sqlite(db_path ? db_path : ckp::cp::default_sqlite_path());
}

int cp_use_file_store(const char *dir)
{
    if (!dir || !*dir) {
        errno = EINVAL;
        return -1;
    }
    if (open_files > 0) {
        errno = EBUSY;
        return -1;
    }
    return ckp::cp::use_files(ckp::io::absolute(dir));
}

CP_FILE *cp_open(const char *fname, const char *mode)
{
    char kind = 0;
    if (!fname || !*fname || !valid_mode(mode, kind)) {
        errno = EINVAL;
        return nullptr;
    }
    cp_file *f = new (std::nothrow) cp_file;
    if (!f) {
        errno = ENOMEM;
        return nullptr;
    }
    try {
        f->key = ckp::io::absolute(fname);
        if (ensure_store() != 0) {
            delete f;
            return nullptr;
        }
    } catch (const std::bad_alloc &) {  // the key, or installing the default store
        delete f;
        errno = ENOMEM;
        return nullptr;
    }
    f->writing = kind != 'r';
    fpos_t pos;
    hook_oom = false;
    int found = hook([&] { return hooks.qry(key_of(f), &pos, &f->userdata); });
    int saved_errno = 0;
    if (found == 0) {
        f->fp = resume(f->key, kind, pos);
        saved_errno = errno;
    } else if (found == CP_NOT_FOUND) {
        // A new entry: the file as fopen would open it, its start position checked.
        const char *m = kind == 'r' ? "rbe" : kind == 'w' ? "wbe" : "abe";
        f->fp = std::fopen(f->key.c_str(), m);
        saved_errno = errno;
        if (f->fp && kind == 'a') fseeko(f->fp, 0, SEEK_END);
        int e = 0;
        if (f->fp) {
            hook_oom = false;
            if (hook([&] { return hooks.ins(key_of(f), &f->userdata); }) != 0)
                e = store_error();
            else if (record_position(f, false) != 0)
                e = errno == ENOMEM ? ENOMEM : EIO;
        }
        if (e != 0) {
            saved_errno = e;
            hook([] { return hooks.rbk(); });
            hook_oom = false;
            std::fclose(f->fp);
            f->fp = nullptr;
        }
    } else {
        saved_errno = store_error();
    }
    if (!f->fp) {
        release_store();
        delete f;
        errno = saved_errno;
        return nullptr;
    }
    ++open_files;
    return f;
}

int cp_close(CP_FILE *cpf)
{
    if (!cpf) {
        errno = EINVAL;
        return -1;
    }
    int rc = flush_durably(cpf) == 0 && record_position(cpf, true) == 0 ? 0 : -1;
    const int saved = errno;
    if (std::fclose(cpf->fp) != 0 && rc == 0) rc = -1;
    delete cpf;
    --open_files;
    release_store();
    if (rc != 0) errno = saved;
    return rc;
}

int cp_read(CP_FILE *cpf, void *buf, int size, int count)
{
    if (!cpf || !buf || size < 0 || count < 0 || cpf->writing) {
        errno = EINVAL;
        return 0;
    }
    return int(std::fread(buf, size_t(size), size_t(count), cpf->fp));
}

int cp_write(CP_FILE *cpf, const void *buf, int size, int count)
{
    if (!cpf || !buf || size < 0 || count < 0 || !cpf->writing) {
        errno = EINVAL;
        return 0;
    }
    return int(std::fwrite(buf, size_t(size), size_t(count), cpf->fp));
}

int cp_check(CP_FILE *cpf)
{
    if (!cpf) {
        errno = EINVAL;
        return -1;
    }
    if (flush_durably(cpf) != 0) return -1;
    return record_position(cpf, false);
}

fpos_t cp_tell(CP_FILE *cpf)
{
    fpos_t pos;
    std::memset(&pos, 0, sizeof pos);
    if (!cpf) {
        errno = EINVAL;
        pos.__pos = -1;
        return pos;
    }
    if (fgetpos(cpf->fp, &pos) != 0) pos.__pos = -1;
    return pos;
}

int cp_seek(CP_FILE *cpf, fpos_t fpos)
{
    if (!cpf || fpos.__pos < 0) {
        errno = EINVAL;
        return -1;
    }
    return fsetpos(cpf->fp, &fpos) == 0 ? 0 : -1;
}

}  // extern "C"
