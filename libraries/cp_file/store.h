// The checkpoint stores of cp_file, each a set of the document's hooks (cp_hooks).
#pragma once

#include <cstdio>
#include <string>

namespace ckp::cp {

// A stored position: the fpos_t the program saw and its byte offset (for people and tools).
inline constexpr size_t kPosBytes = sizeof(fpos_t);

// Installs the SQLite store on `db_path` (store_sqlite.cpp) or the file store in `dir`
// (store_files.cpp) through cp_hooks/cp_hooks_done. 0 or -1 with errno.
int use_sqlite(const std::string &db_path);
int use_files(const std::string &dir);

// The default store's path: $CKP_CP_STORE, else $XDG_STATE_HOME/ckp/cp_store.db.
std::string default_sqlite_path();

}  // namespace ckp::cp
