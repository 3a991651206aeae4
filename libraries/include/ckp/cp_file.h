/* cp_*: checkpointed files over a pluggable checkpoint store (source document 001).
 *
 * A checkpointed file is read or written through a CP_FILE. cp_check() makes the data written
 * so far durable and records the file's position in the checkpoint store. cp_open() of a file
 * the store has an entry for (a run that did not reach cp_close) resumes at that position:
 *   - written files ("w", "a"): bytes after the last checked position (written after the last
 *     cp_check, by the run that crashed) are cut off, and writing continues there;
 *   - read files ("r"): reading continues at the checked position.
 * cp_close() checks a last time and marks the entry completed: the next cp_open starts anew
 * ("w" truncates, "r" reads from the start, "a" appends). Files are keyed by absolute path.
 *
 * The default store is SQLite (one WAL-mode database; one transaction per cp_check), at
 * $CKP_CP_STORE, else $XDG_STATE_HOME/ckp/cp_store.db (~/.local/state/ckp/cp_store.db).
 * See docs/libraries.md. Link with -lckp.
 *
 * Returns: cp_open a CP_FILE or NULL; cp_read/cp_write the number of complete items, as
 * fread/fwrite; the others 0, or -1 (cp_tell: a position of -1 offset) with errno:
 *   EINVAL a NULL or bad argument or mode; ENOENT cp_open "r" of a missing file, or a file
 *   with a store entry that has vanished; ESTALE a resumed file is shorter than its checked
 *   position (checked data was lost outside cp_*); EBUSY cp_hooks while files are open;
 *   EIO the store failed (its hook returned an error); ENOMEM out of memory (in cp_* or in a
 *   hook of this library's stores; the store entry keeps its previous position); and the file
 *   system's errors. */
#ifndef CKP_CP_FILE_H
#define CKP_CP_FILE_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cp_file CP_FILE;

CP_FILE *cp_open(const char *fname, const char *mode);  /* mode: "r", "w" or "a" ("b" ignored) */
int cp_close(CP_FILE *cpf);
int cp_read(CP_FILE *cpf, void *buf, int size, int count);
int cp_write(CP_FILE *cpf, const void *buf, int size, int count);
int cp_check(CP_FILE *cpf);
fpos_t cp_tell(CP_FILE *cpf);
int cp_seek(CP_FILE *cpf, fpos_t fpos);

/* The checkpoint store's hooks, as the document has them. Each returns 0 on success and
 * nonzero on failure, except qry: 0 = an entry exists (its position and user data are
 * returned), CP_NOT_FOUND = none, anything else = failure. The document's qry returns the user
 * data, so it takes a void ** here. upd and ins stage changes that com commits (rbk drops);
 * ini is called before the first file is opened, fin after the last is closed. All seven are
 * required; they replace the current store (EBUSY while a file is open). */
#define CP_NOT_FOUND 1
int cp_hooks(int (*ins)(char *fname, void **userdata), int (*upd)(char *fname, fpos_t fpos, void *userdata),
             int (*qry)(char *fname, fpos_t *fpos, void **userdata), int (*com)(void), int (*rbk)(void),
             int (*ini)(void), int (*fin)(void));
/* Beyond the document, which says cp_close "marks the entry completed" but gives no hook for
 * it: the store's completion hook (staged, then committed by com). Without one (NULL, the
 * default after cp_hooks), cp_close only records the final position, and a later cp_open
 * resumes there. */
int cp_hooks_done(int (*done)(char *fname, void *userdata));

/* The two stores of this library, each installed through cp_hooks. */
int cp_use_sqlite_store(const char *db_path);  /* NULL: the default path above */
int cp_use_file_store(const char *dir);        /* one small checksummed file per entry in dir */

#ifdef __cplusplus
}
#endif
#endif
