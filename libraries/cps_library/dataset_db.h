// The persistent side of the library-based checkpoints: checkpoints, datasets and elements in
// one SQLite database (docs/libraries.md, "CPS library schema"). A connection is opened for
// each call and closed after it, so that nothing of the database's state lives in the process
// between calls (a process restored or rolled back by ckpt holds no stale connection).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <ckp/cl_common.h>

struct sqlite3;

namespace ckp::cps {

class DatasetDb {
public:
    // Opens the database at `path` (created with its schema when missing). CL_OK, or
    // CL_CKPT_ERR_IO / CL_CKPT_ERR_VERSION_MISMATCH.
    ClRcT open(const std::string &path);
    ~DatasetDb();

    ClRcT ckpt_exists(const std::string &ckpt, bool &exists);
    ClRcT ckpt_create(const std::string &ckpt);
    ClRcT ckpt_delete(const std::string &ckpt, bool &existed);
    ClRcT dataset_exists(const std::string &ckpt, uint32_t ds, bool &exists);
    ClRcT dataset_create(const std::string &ckpt, uint32_t ds, uint32_t grp, uint32_t order);
    ClRcT dataset_delete(const std::string &ckpt, uint32_t ds, bool &existed);
    ClRcT dataset_write(const std::string &ckpt, uint32_t ds, const void *data, uint32_t len);
    // `found` false if never written; CL_CKPT_ERR_CORRUPTED if the data fails its checksum.
    ClRcT dataset_read(const std::string &ckpt, uint32_t ds, std::string &data, bool &found);
    ClRcT element_write(const std::string &ckpt, uint32_t ds, const std::string &key, const void *data, uint32_t len);
    // Calls `each` with every element's data, in key order; every checksum is checked first.
    ClRcT elements_read(const std::string &ckpt, uint32_t ds, const std::function<ClRcT(std::string &)> &each);

    // One statement outside the calls above (BEGIN/COMMIT of a consistent read).
    ClRcT exec(const char *sql);

private:
    sqlite3 *db_ = nullptr;
};

// The database's path: $CL_CKPT_LIBRARY_DB, else $XDG_STATE_HOME/ckp/cl_ckpt_library.db.
std::string default_db_path();

}  // namespace ckp::cps
