#include "dataset_db.h"

#include <cstdlib>
#include <sqlite3.h>
#include <vector>

#include "../common/checksum.h"
#include "../common/file_io.h"
#include "../common/kill_point.h"

namespace ckp::cps {
namespace {

constexpr int kSchemaVersion = 1;
constexpr const char *kSchema =
    "CREATE TABLE IF NOT EXISTS ckpt (name BLOB PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS dataset ("
    "  ckpt BLOB NOT NULL REFERENCES ckpt(name) ON DELETE CASCADE,"
    "  ds_id INTEGER NOT NULL, grp_id INTEGER NOT NULL, ord INTEGER NOT NULL,"
    "  data BLOB, checksum INTEGER,"  // NULL until the first write
    "  PRIMARY KEY (ckpt, ds_id));"
    "CREATE TABLE IF NOT EXISTS element ("
    "  ckpt BLOB NOT NULL, ds_id INTEGER NOT NULL, elem_id BLOB NOT NULL,"
    "  data BLOB NOT NULL, checksum INTEGER NOT NULL,"
    "  PRIMARY KEY (ckpt, ds_id, elem_id),"
    "  FOREIGN KEY (ckpt, ds_id) REFERENCES dataset(ckpt, ds_id) ON DELETE CASCADE);";

// A prepared statement, finalized on every path.
class Stmt {
public:
    Stmt(sqlite3 *db, const char *sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK; }
    ~Stmt() { sqlite3_finalize(st_); }
    bool ok() const { return ok_; }
    Stmt &blob(int i, const void *p, size_t n)
    {
        sqlite3_bind_blob(st_, i, n ? p : "", int(n), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt &text(int i, const std::string &s) { return blob(i, s.data(), s.size()); }
    Stmt &i64(int i, int64_t v)
    {
        sqlite3_bind_int64(st_, i, v);
        return *this;
    }
    int step() { return sqlite3_step(st_); }
    sqlite3_stmt *get() { return st_; }

private:
    sqlite3_stmt *st_ = nullptr;
    bool ok_ = false;
};

std::string column_bytes(sqlite3_stmt *st, int i)
{
    const void *p = sqlite3_column_blob(st, i);
    const int n = sqlite3_column_bytes(st, i);
    return p ? std::string(static_cast<const char *>(p), size_t(n)) : std::string();
}

// Checksums are stored as SQLite integers (signed 64 bits).
int64_t sum_of(const void *p, size_t n) { return int64_t(checksum(p, n)); }

// The store's own files are the service's state, not the program's: under ckpt-run they are
// excluded from the persistent state that a rollback undoes (docs/libraries.md). The runtime's
// call is found only when libckpt.so is loaded.
extern "C" int ckpt_exclude(const char *path) __attribute__((weak));

void exclude_from_ckpt(const std::string &path)
{
    if (!ckpt_exclude) return;
    static std::string done;
    if (done == path) return;
    for (const char *suffix : {"", "-wal", "-shm", "-journal"}) ckpt_exclude((path + suffix).c_str());
    done = path;
}

}  // namespace

std::string default_db_path()
{
    if (const char *p = std::getenv("CL_CKPT_LIBRARY_DB"); p && *p) return io::absolute(p);
    if (const char *x = std::getenv("XDG_STATE_HOME"); x && *x) return std::string(x) + "/ckp/cl_ckpt_library.db";
    const char *home = std::getenv("HOME");
    return std::string(home && *home ? home : ".") + "/.local/state/ckp/cl_ckpt_library.db";
}

ClRcT DatasetDb::exec(const char *sql)
{
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK ? CL_OK : CL_CKPT_ERR_IO;
}

ClRcT DatasetDb::open(const std::string &path)
{
    exclude_from_ckpt(path);
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) io::make_dirs(path.substr(0, slash));
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
        return CL_CKPT_ERR_IO;
    sqlite3_busy_timeout(db_, 10000);
    if (exec("PRAGMA foreign_keys=ON") || exec("PRAGMA synchronous=FULL")) return CL_CKPT_ERR_IO;
    int version = -1;
    {
        Stmt v(db_, "PRAGMA user_version");
        if (!v.ok() || v.step() != SQLITE_ROW) return CL_CKPT_ERR_IO;
        version = sqlite3_column_int(v.get(), 0);
    }  // finalized: the journal mode cannot change while a statement is open
    if (version == kSchemaVersion) return CL_OK;
    if (version != 0) return CL_CKPT_ERR_VERSION_MISMATCH;
    if (exec("PRAGMA journal_mode=WAL") || exec("BEGIN IMMEDIATE")) return CL_CKPT_ERR_IO;
    if (exec(kSchema) || exec("PRAGMA user_version=1") || exec("COMMIT")) {
        exec("ROLLBACK");
        return CL_CKPT_ERR_IO;
    }
    return CL_OK;
}

DatasetDb::~DatasetDb() { sqlite3_close(db_); }

ClRcT DatasetDb::ckpt_exists(const std::string &ckpt, bool &exists)
{
    Stmt s(db_, "SELECT 1 FROM ckpt WHERE name = ?1");
    if (!s.ok()) return CL_CKPT_ERR_IO;
    const int rc = s.text(1, ckpt).step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return CL_CKPT_ERR_IO;
    exists = rc == SQLITE_ROW;
    return CL_OK;
}

ClRcT DatasetDb::ckpt_create(const std::string &ckpt)
{
    Stmt s(db_, "INSERT OR IGNORE INTO ckpt(name) VALUES(?1)");
    return s.ok() && s.text(1, ckpt).step() == SQLITE_DONE ? CL_OK : CL_CKPT_ERR_IO;
}

ClRcT DatasetDb::ckpt_delete(const std::string &ckpt, bool &existed)
{
    Stmt s(db_, "DELETE FROM ckpt WHERE name = ?1");
    if (!s.ok() || s.text(1, ckpt).step() != SQLITE_DONE) return CL_CKPT_ERR_IO;
    existed = sqlite3_changes(db_) > 0;
    return CL_OK;
}

ClRcT DatasetDb::dataset_exists(const std::string &ckpt, uint32_t ds, bool &exists)
{
    Stmt s(db_, "SELECT 1 FROM dataset WHERE ckpt = ?1 AND ds_id = ?2");
    if (!s.ok()) return CL_CKPT_ERR_IO;
    const int rc = s.text(1, ckpt).i64(2, ds).step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return CL_CKPT_ERR_IO;
    exists = rc == SQLITE_ROW;
    return CL_OK;
}

ClRcT DatasetDb::dataset_create(const std::string &ckpt, uint32_t ds, uint32_t grp, uint32_t order)
{
    Stmt s(db_, "INSERT OR IGNORE INTO dataset(ckpt, ds_id, grp_id, ord) VALUES(?1, ?2, ?3, ?4)");
    return s.ok() && s.text(1, ckpt).i64(2, ds).i64(3, grp).i64(4, order).step() == SQLITE_DONE ? CL_OK
                                                                                               : CL_CKPT_ERR_IO;
}

ClRcT DatasetDb::dataset_delete(const std::string &ckpt, uint32_t ds, bool &existed)
{
    Stmt s(db_, "DELETE FROM dataset WHERE ckpt = ?1 AND ds_id = ?2");
    if (!s.ok() || s.text(1, ckpt).i64(2, ds).step() != SQLITE_DONE) return CL_CKPT_ERR_IO;
    existed = sqlite3_changes(db_) > 0;
    return CL_OK;
}

ClRcT DatasetDb::dataset_write(const std::string &ckpt, uint32_t ds, const void *data, uint32_t len)
{
    if (exec("BEGIN IMMEDIATE")) return CL_CKPT_ERR_IO;
    Stmt s(db_, "UPDATE dataset SET data = ?3, checksum = ?4 WHERE ckpt = ?1 AND ds_id = ?2");
    bool ok = s.ok() && s.text(1, ckpt).i64(2, ds).blob(3, data, len).i64(4, sum_of(data, len)).step() == SQLITE_DONE &&
              sqlite3_changes(db_) == 1;
    if (ok && kill_point("cps.write")) die_here();  // inside the transaction
    if (!ok || exec("COMMIT")) {
        exec("ROLLBACK");
        return ok ? CL_CKPT_ERR_IO : CL_CKPT_ERR_NOT_EXIST;
    }
    return CL_OK;
}

ClRcT DatasetDb::dataset_read(const std::string &ckpt, uint32_t ds, std::string &data, bool &found)
{
    Stmt s(db_, "SELECT data, checksum FROM dataset WHERE ckpt = ?1 AND ds_id = ?2");
    if (!s.ok()) return CL_CKPT_ERR_IO;
    const int rc = s.text(1, ckpt).i64(2, ds).step();
    if (rc == SQLITE_DONE || (rc == SQLITE_ROW && sqlite3_column_type(s.get(), 0) == SQLITE_NULL)) {
        found = false;
        return CL_OK;
    }
    if (rc != SQLITE_ROW) return CL_CKPT_ERR_IO;
    data = column_bytes(s.get(), 0);
    if (sqlite3_column_int64(s.get(), 1) != sum_of(data.data(), data.size())) return CL_CKPT_ERR_CORRUPTED;
    found = true;
    return CL_OK;
}

ClRcT DatasetDb::element_write(const std::string &ckpt, uint32_t ds, const std::string &key, const void *data,
                               uint32_t len)
{
    if (exec("BEGIN IMMEDIATE")) return CL_CKPT_ERR_IO;
    Stmt s(db_, "INSERT INTO element(ckpt, ds_id, elem_id, data, checksum) VALUES(?1, ?2, ?3, ?4, ?5) "
                "ON CONFLICT(ckpt, ds_id, elem_id) DO UPDATE SET data = excluded.data, checksum = excluded.checksum");
    const bool ok =
        s.ok() && s.text(1, ckpt).i64(2, ds).text(3, key).blob(4, data, len).i64(5, sum_of(data, len)).step() ==
                      SQLITE_DONE;
    if (ok && kill_point("cps.element")) die_here();
    if (!ok || exec("COMMIT")) {
        exec("ROLLBACK");
        return CL_CKPT_ERR_IO;
    }
    return CL_OK;
}

ClRcT DatasetDb::elements_read(const std::string &ckpt, uint32_t ds, const std::function<ClRcT(std::string &)> &each)
{
    Stmt s(db_, "SELECT data, checksum FROM element WHERE ckpt = ?1 AND ds_id = ?2 ORDER BY elem_id");
    if (!s.ok()) return CL_CKPT_ERR_IO;
    s.text(1, ckpt).i64(2, ds);
    std::vector<std::string> all;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        all.push_back(column_bytes(s.get(), 0));
        if (sqlite3_column_int64(s.get(), 1) != sum_of(all.back().data(), all.back().size()))
            return CL_CKPT_ERR_CORRUPTED;
    }
    if (rc != SQLITE_DONE) return CL_CKPT_ERR_IO;
    for (std::string &d : all)
        if (ClRcT r = each(d); r != CL_OK) return r;
    return CL_OK;
}

}  // namespace ckp::cps
