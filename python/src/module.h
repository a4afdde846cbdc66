/*
 * ctempfile's C core (_ctempfile): what its C files share (_ctempfile.c the
 * module and the library calls, fastpath.c, fdopen.c, spool_buffer.c,
 * spooled.c).
 * Everything here sits on the public libtempfile API (tempfile.h) only.
 */
#ifndef CTEMPFILE_MODULE_H
#define CTEMPFILE_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tempfile.h"

/* The tempfile API of CPython 3.12 on (delete_on_close, TemporaryDirectory's
 * delete): ctempfile offers the API of the interpreter it runs on. */
#define CT_API_3_12 (PY_VERSION_HEX >= 0x030C0000)

#if PY_VERSION_HEX >= 0x030C0000
#define CT_T_OBJECT Py_T_OBJECT_EX
#define CT_READONLY Py_READONLY
#else
#include <structmember.h>
#define CT_T_OBJECT T_OBJECT_EX
#define CT_READONLY READONLY
#endif

/* dir, prefix and suffix converted to filesystem bytes (NULL for None). */
typedef struct {
    PyObject *dir;
    PyObject *prefix;
    PyObject *suffix;
    PyObject *dir_obj;   /* the dir argument as given, for error messages */
} ct_names;

/* Converts the three arguments; 0 on success, -1 with an exception set. */
int ct_names_parse(ct_names *n, PyObject *dir, PyObject *prefix, PyObject *suffix);
void ct_names_clear(ct_names *n);
/* A ValueError being raised (an embedded NUL in dir, prefix or suffix)
 * reworded as CPython's os.<call>. */
void ct_nul_as(const char *call, PyObject *dir, PyObject *prefix, PyObject *suffix);
/* Fills opts from n (borrowed pointers, valid while n is). */
void ct_names_opts(const ct_names *n, tf_opts *opts);

/* The audit events of CPython's mkstemp for a new file name: 0, or -1 with
 * the hook's exception. */
int ct_audit_new_file(PyObject *name);

/* Raises the OSError subclass for err, naming filename (may be NULL). */
PyObject *ct_oserror(int err, PyObject *filename);
/* Raises what CPython's failed creation of a file (is_dir: a directory) in
 * n's directory raises for err: the path it tried as filename. NULL. */
PyObject *ct_creation_error(int err, const ct_names *n, int want_bytes, int is_dir);

/* io.TextIOWrapper, io.UnsupportedOperation (set at module init). */
extern PyObject *ct_io_TextIOWrapper;
extern PyObject *ct_io_UnsupportedOperation;

/* tf_mkstemp() -> (fd, name), tf_mkdtemp() -> name, for n; NULL with an error. */
PyObject *ct_mkstemp_in(const ct_names *n, int want_bytes);
PyObject *ct_mkdtemp_in(const ct_names *n, int want_bytes);

/*
 * A descriptor of a new file with no name (use_o_tmpfile: tf_temporary_file,
 * else tf_named_temporary_file released at once), or -1 with OSError set.
 */
int ct_unnamed_fd(const ct_names *n, int use_o_tmpfile);

/* A DirHandle of a new temporary directory for n (ignore: its cleanup's
 * errors; keep: Python's delete=False), or NULL with CPython's error. */
PyObject *ct_dir_handle_new(const ct_names *n, int want_bytes, int ignore, int keep);
/* fastpath.c: TemporaryDirectory's creation in C for the common case. */
PyObject *ct_temporary_directory_fast(PyObject *m, PyObject *const *args, Py_ssize_t nargs);

/* A FileHandle (remove(), forget()) taking f over; NULL, f untouched, on failure. */
PyObject *ct_file_handle_new(tf_file *f, PyObject *name);
/* Takes f back from a FileHandle, which then holds nothing. */
tf_file *ct_file_handle_take(PyObject *handle);

/* The io module (set at module init). */
extern PyObject *ct_io_module;
/* The ctempfile package (set by _bind), NULL before. */
extern PyObject *ct_package;

/* OSError from errno. */
static inline PyObject *ct_errno_error(void)
{
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* PyMethodDef entries by calling convention. */
#define CT_FN(f) ((PyCFunction)(void (*)(void))(f))
#define CT_FASTCALL(f) CT_FN(f), METH_FASTCALL
#define CT_VECTORCALL(f) CT_FN(f), METH_FASTCALL | METH_KEYWORDS
#define CT_NOARGS(f) CT_FN(f), METH_NOARGS
#define CT_ONEARG(f) CT_FN(f), METH_O
#define CT_VARARGS(f) CT_FN(f), METH_VARARGS

/* fdopen.c */
extern PyTypeObject ct_FdOpener_Type;
/* An io.open() opener handing over fd once (closing it if never asked). */
PyObject *ct_fd_giver(int fd);
int ct_fdopen_init(PyObject *io);
/* obj.close(), keeping the exception being raised. */
void ct_close_keeping_error(PyObject *obj);
/*
 * What io.open(fd, mode, buffering, encoding, errors, newline) returns, for a
 * descriptor of a regular file just created, its raw file named `name` (NULL:
 * the descriptor), as CPython's tempfile names it. The descriptor is the
 * result's, or closed on failure. file_arg is what a replaced io.open is
 * given as the file.
 */
PyObject *ct_fdopen(int fd, PyObject *file_arg, PyObject *mode, PyObject *buffering,
                    PyObject *encoding, PyObject *errors, PyObject *newline, PyObject *name);

/* fastpath.c: mkstemp(), mkdtemp(), TemporaryFile(), NamedTemporaryFile() */
int ct_fastpath_init(void);
extern PyMethodDef ct_fastpath_methods[];

/* spool_buffer.c: the memory file of a SpooledTemporaryFile */
typedef struct {
    PyObject_HEAD
    tf_file *f;   /* NULL once closed or handed over to an io object */
} SpoolBuffer;
extern PyTypeObject ct_SpoolBuffer_Type;
/* ValueError("I/O operation on closed file."); returns NULL. */
PyObject *ct_closed_error(void);

/* spooled.c */
/* The _Spooled type (a new reference), or NULL with an error. */
PyObject *ct_spooled_type(void);
PyObject *ct_spooled_own_methods(PyObject *m, PyObject *cls);

/* ---- the library's own capabilities (ctempfile/_capabilities.py) ------- */

/* The library's memory file of a _Spooled (sp must be one) while the data
 * is in memory there, else NULL (spooled.c; borrowed). */
SpoolBuffer *ct_spooled_buffer(PyObject *sp);

/* Releases *slot (set to NULL first) without the GIL: None, or the OSError
 * naming filename (may be NULL). */
PyObject *ct_release(tf_file **slot, PyObject *filename);

/* A FileHandle's tf_file slot (NULL with TypeError for anything else). */
tf_file **ct_file_handle_slot(PyObject *handle);
/* The slot of a FileHandle whose file is still open: NULL with TypeError for
 * anything else, ValueError for a closed one. */
tf_file **ct_open_handle_slot(PyObject *handle);

/* durable.c, shredding.c, handover.c: their functions, types and constants
 * added to the module; 0 or -1 with an exception. */
extern PyTypeObject ct_Replace_Type;
int ct_durable_init(PyObject *m);
int ct_shred_init(PyObject *m);
int ct_handover_init(PyObject *m);

#endif
