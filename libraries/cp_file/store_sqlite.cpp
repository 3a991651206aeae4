// The default checkpoint store of cp_file: one SQLite database in WAL mode (docs/libraries.md,
// "cp_file store schema"). upd/ins/done open a transaction if none is open; com commits it
// (one transaction per cp_check), rbk rolls it back. ini opens the database, fin closes it.
#include <ckp/cp_file.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <sqlite3.h>
#include <string>

#include "../common/file_io.h"
#include "store.h"

namespace ckp::cp {
namespace {

std::string db_path;
sqlite3 *db = nullptr;
bool in_txn = false;

constexpr const char *kSchema =
    "CREATE TABLE IF NOT EXISTS cp_files ("
    "  name TEXT PRIMARY KEY,"           // absolute path of the checkpointed file
    "  pos BLOB NOT NULL,"               // the fpos_t of the last cp_check
    "  offset INTEGER NOT NULL,"         // its byte offset
    "  completed INTEGER NOT NULL DEFAULT 0,"  // 1 after cp_close
    "  updated_ns INTEGER NOT NULL);";

int64_t now_ns()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int exec(const char *sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? 0 : -1; }

int begin()
{
    if (in_txn) return 0;
    if (exec("BEGIN IMMEDIATE") != 0) return -1;
    in_txn = true;
    return 0;
}

int ini()
{
    const size_t slash = db_path.rfind('/');
    if (slash != std::string::npos && slash > 0) io::make_dirs(db_path.substr(0, slash));
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        db = nullptr;
        return -1;
    }
    sqlite3_busy_timeout(db, 10000);
    // FULL: a committed cp_check survives power loss, not only a crash of the program.
    if (exec("PRAGMA journal_mode=WAL") != 0 || exec("PRAGMA synchronous=FULL") != 0 || exec(kSchema) != 0 ||
        exec("PRAGMA user_version=1") != 0) {
        sqlite3_close(db);
        db = nullptr;
        return -1;
    }
    in_txn = false;
    return 0;
}

int fin()
{
    if (in_txn) exec("ROLLBACK");
    in_txn = false;
    const int rc = sqlite3_close(db) == SQLITE_OK ? 0 : -1;
    db = nullptr;
    return rc;
}

int write_row(char *fname, const fpos_t *pos, int completed)
{
    if (!db || begin() != 0) return -1;
    sqlite3_stmt *st = nullptr;
    const char *sql = "INSERT INTO cp_files(name, pos, offset, completed, updated_ns) VALUES(?1, ?2, ?3, ?4, ?5) "
                      "ON CONFLICT(name) DO UPDATE SET pos = excluded.pos, offset = excluded.offset, "
                      "completed = excluded.completed, updated_ns = excluded.updated_ns";
    fpos_t zero;
    std::memset(&zero, 0, sizeof zero);
    if (!pos) pos = &zero;
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) return -1;
    sqlite3_bind_text(st, 1, fname, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 2, pos, int(kPosBytes), SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, int64_t(pos->__pos));
    sqlite3_bind_int(st, 4, completed);
    sqlite3_bind_int64(st, 5, now_ns());
    const int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int ins(char *fname, void **userdata)
{
    if (userdata) *userdata = nullptr;
    return write_row(fname, nullptr, 0);
}

int upd(char *fname, fpos_t fpos, void *) { return write_row(fname, &fpos, 0); }

int done(char *fname, void *)
{
    if (!db || begin() != 0) return -1;
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, "UPDATE cp_files SET completed = 1, updated_ns = ?2 WHERE name = ?1", -1, &st,
                           nullptr) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, fname, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ns());
    const int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

int qry(char *fname, fpos_t *fpos, void **userdata)
{
    if (!db) return -1;
    if (userdata) *userdata = nullptr;
    sqlite3_stmt *st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT pos FROM cp_files WHERE name = ?1 AND completed = 0", -1, &st, nullptr) !=
        SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, fname, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == int(kPosBytes)) {
        std::memcpy(fpos, sqlite3_column_blob(st, 0), kPosBytes);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? CP_NOT_FOUND : -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int com()
{
    if (!in_txn) return 0;
    in_txn = false;
    if (exec("COMMIT") == 0) return 0;
    exec("ROLLBACK");
    return -1;
}

int rbk()
{
    if (!in_txn) return 0;
    in_txn = false;
    return exec("ROLLBACK");
}

}  // namespace

std::string default_sqlite_path()
{
    if (const char *p = std::getenv("CKP_CP_STORE"); p && *p) return io::absolute(p);
    if (const char *x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/ckp/cp_store.db";
    const char *home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.local/state/ckp/cp_store.db";
}

int use_sqlite(const std::string &path)
{
    db_path = io::absolute(path);
    if (cp_hooks(ins, upd, qry, com, rbk, ini, fin) != 0) return -1;
    return cp_hooks_done(done);
}

}  // namespace ckp::cp
