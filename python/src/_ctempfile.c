/*
 * _ctempfile: the C core of ctempfile. Every name, every creation and every
 * removal goes through libtempfile's public API (tempfile.h); this file only
 * converts between Python objects and the library's C types, releases the GIL
 * around system calls and turns errno into the matching OSError subclass.
 *
 * The only creations not made by the library are those of ct_open_new() and
 * ct_mkdir_new(): they create an exact path, which the library cannot do (it
 * draws its own names). ctempfile uses them only when a program replaced
 * tempfile._get_candidate_names() to choose the names itself. The only
 * removal is remove_at_path()'s rmdir(2) of an empty directory, which tells
 * the common case from a directory renamed under a TemporaryDirectory.
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

PyMODINIT_FUNC PyInit__ctempfile(void);

PyObject *ct_io_module;
PyObject *ct_io_TextIOWrapper;
PyObject *ct_io_UnsupportedOperation;
/* The ctempfile package, for its globals (template, tempdir, hooks). */
PyObject *ct_package;

/* ---- helpers ------------------------------------------------------------ */

static int audit_new_dir(PyObject *name);

PyObject *ct_oserror(int err, PyObject *filename)
{
    errno = err;
    if (filename)
        return PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, filename);
    return PyErr_SetFromErrno(PyExc_OSError);
}

static int has_slash(PyObject *bytes)
{
    return bytes && memchr(PyBytes_AS_STRING(bytes), '/', (size_t)PyBytes_GET_SIZE(bytes)) != NULL;
}

static int fs_convert(PyObject *o, PyObject **out)
{
    *out = NULL;
    if (o == Py_None)
        return 0;
    return PyUnicode_FSConverter(o, out) ? 0 : -1;
}

/*
 * A str name the filesystem encoding cannot encode: CPython's os.open or
 * os.mkdir raise the UnicodeEncodeError of the whole path (dir joined to
 * prefix, a random name and suffix), whose position is in that path; the
 * package's _encode_error() raises it. Any other outcome keeps the
 * converter's error.
 */
static void encode_error_as_cpython(PyObject *dir, PyObject *prefix, PyObject *suffix)
{
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError) || !ct_package)
        return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *make = PyObject_GetAttrString(ct_package, "_encode_error");
    PyObject *r = make ? PyObject_CallFunctionObjArgs(make, dir, prefix, suffix, NULL) : NULL;
    Py_XDECREF(make);
    if (!r && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return;
    }
    Py_XDECREF(r);
    PyErr_Clear();
    PyErr_Restore(type, value, tb);
}

int ct_names_parse(ct_names *n, PyObject *dir, PyObject *prefix, PyObject *suffix)
{
    *n = (ct_names){ .dir_obj = dir };
    if (fs_convert(dir, &n->dir) < 0 || fs_convert(prefix, &n->prefix) < 0 ||
        fs_convert(suffix, &n->suffix) < 0) {
        ct_names_clear(n);
        encode_error_as_cpython(dir, prefix, suffix);
        return -1;
    }
    if (has_slash(n->prefix) || has_slash(n->suffix)) {
        PyObject *bad = has_slash(n->prefix) ? prefix : suffix;
        PyObject *exc = PyObject_CallFunction(PyExc_OSError, "isO", EINVAL,
            "libtempfile refuses a '/' in prefix or suffix", bad);
        if (exc) {
            PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
            Py_DECREF(exc);
        }
        ct_names_clear(n);
        return -1;
    }
    return 0;
}

void ct_names_clear(ct_names *n)
{
    Py_CLEAR(n->dir);
    Py_CLEAR(n->prefix);
    Py_CLEAR(n->suffix);
}

void ct_names_opts(const ct_names *n, tf_opts *opts)
{
    *opts = (tf_opts){
        .dir = n->dir ? PyBytes_AS_STRING(n->dir) : NULL,
        .prefix = n->prefix ? PyBytes_AS_STRING(n->prefix) : "",
        .suffix = n->suffix ? PyBytes_AS_STRING(n->suffix) : NULL,
    };
    if (!n->prefix)
        opts->prefix = NULL;
}

static PyObject *name_out(const char *path, int want_bytes)
{
    return want_bytes ? PyBytes_FromString(path) : PyUnicode_DecodeFSDefault(path);
}

/*
 * Raises for a failed creation what CPython's raises: its OSError names the
 * path it tried (the directory joined to prefix, a random name and suffix;
 * made absolute but for mkdtemp), and a search that found every name taken
 * is a FileExistsError naming nothing. The library draws and tries its names
 * itself and fails on the first one for anything but EEXIST, so a name drawn
 * here is as good as the one it tried. The package's _creation_error()
 * builds the exception; the candidate's audit events are raised, as
 * CPython's os.open / os.mkdir raise them before failing.
 */
PyObject *ct_creation_error(int err, const ct_names *n, int want_bytes, int is_dir)
{
    PyObject *make = ct_package ? PyObject_GetAttrString(ct_package, "_creation_error") : NULL;
    if (!make) {
        PyErr_Clear();
        return ct_oserror(err, n->dir ? n->dir_obj : NULL);
    }
    PyObject *exc = PyObject_CallFunction(make, "iOOOii", err, n->dir_obj ? n->dir_obj : Py_None,
                                          n->prefix ? n->prefix : Py_None,
                                          n->suffix ? n->suffix : Py_None, want_bytes, is_dir);
    Py_DECREF(make);
    if (!exc)
        return NULL;
    PyObject *filename = PyObject_GetAttrString(exc, "filename");
    int refused = !filename || (filename != Py_None &&
                                (is_dir ? audit_new_dir(filename) : ct_audit_new_file(filename)) < 0);
    Py_XDECREF(filename);
    if (!refused)
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
    return NULL;
}

void ct_nul_as(const char *call, PyObject *dir, PyObject *prefix, PyObject *suffix)
{
    /* The NUL's own ValueError (not UnicodeEncodeError, its subclass).
     * CPython lets os.open/os.mkdir find it, in these words; before 3.13
     * they said so of bytes paths only: a str path's conversion found it
     * first, in the converter's words (kept). */
    if (!PyErr_ExceptionMatches(PyExc_ValueError) || PyErr_ExceptionMatches(PyExc_UnicodeError))
        return;
    if (PY_VERSION_HEX < 0x030D0000 && !PyBytes_Check(dir) && !PyBytes_Check(prefix) &&
        !PyBytes_Check(suffix))
        return;
    PyErr_Clear();
    PyErr_Format(PyExc_ValueError, "%s: embedded null character in path", call);
}

/* Parses (dir, prefix, suffix[, extra]) of a FASTCALL call that creates
 * with os.<call> in CPython ("open" or "mkdir"). */
static int parse_names(ct_names *n, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t want,
                       const char *fname, const char *call)
{
    if (nargs != want) {
        PyErr_Format(PyExc_TypeError, "%s() takes %zd arguments (%zd given)", fname, want, nargs);
        return -1;
    }
    if (ct_names_parse(n, args[0], args[1], args[2]) == 0)
        return 0;
    ct_nul_as(call, args[0], args[1], args[2]);
    return -1;
}

/* ---- names and directories --------------------------------------------- */

static PyObject *ct_random_name(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    char buf[TF_RANDOM_CHARS];
    if (tf_random_chars(buf, sizeof buf) < 0)
        return ct_oserror(errno, NULL);
    return PyUnicode_FromStringAndSize(buf, sizeof buf);
}

static PyObject *ct_gettempprefix(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    return PyUnicode_DecodeFSDefault(tf_gettempprefix());
}

static PyObject *strv_to_list(char **v)
{
    PyObject *list = PyList_New(0);
    for (char **s = v; list && *s; s++) {
        PyObject *item = PyUnicode_DecodeFSDefault(*s);
        if (!item || PyList_Append(list, item) < 0)
            Py_CLEAR(list);
        Py_XDECREF(item);
    }
    return list;
}

static PyObject *ct_candidate_tempdir_list(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    char **v = tf_candidate_tempdir_list();
    if (!v)
        return ct_oserror(errno, NULL);
    PyObject *list = strv_to_list(v);
    tf_strv_free(v);
    return list;
}

/* The default directory searched afresh (Python's _get_default_tempdir()). */
static PyObject *ct_default_tempdir(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    const char *d;
    int err;
    Py_BEGIN_ALLOW_THREADS
    tf_settempdir(NULL);
    d = tf_gettempdir();
    err = errno;
    Py_END_ALLOW_THREADS
    if (d)
        return PyUnicode_DecodeFSDefault(d);
    if (err != ENOENT)
        return ct_oserror(err, NULL);
    PyObject *list = ct_candidate_tempdir_list(NULL, NULL);
    if (!list)
        return NULL;
    PyObject *msg = PyUnicode_FromFormat("No usable temporary directory found in %R", list);
    Py_DECREF(list);
    if (msg) {
        PyObject *exc = PyObject_CallFunction(PyExc_FileNotFoundError, "iO", ENOENT, msg);
        Py_DECREF(msg);
        if (exc) {
            PyErr_SetObject(PyExc_FileNotFoundError, exc);
            Py_DECREF(exc);
        }
    }
    return NULL;
}

/* Whether dir is usable: a file can be created, written and removed there. */
static PyObject *ct_probe_dir(PyObject *m, PyObject *arg)
{
    (void)m;
    PyObject *dir;
    if (!PyUnicode_FSConverter(arg, &dir))
        return NULL;
    int ok = 0;
    Py_BEGIN_ALLOW_THREADS
    tf_file *f = tf_named_temporary_file(&(tf_opts){ .dir = PyBytes_AS_STRING(dir) });
    if (f) {
        ok = tf_file_write(f, "blat", 4) == 4;
        if (tf_file_release(f) < 0)
            ok = 0;
    }
    Py_END_ALLOW_THREADS
    Py_DECREF(dir);
    return PyBool_FromLong(ok);
}

static PyObject *ct_rmtree(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "rmtree(path, ignore_errors)");
        return NULL;
    }
    PyObject *path;
    int ignore = PyObject_IsTrue(args[1]);
    if (ignore < 0 || PySys_Audit("shutil.rmtree", "OO", args[0], Py_None) < 0 ||
        !PyUnicode_FSConverter(args[0], &path))
        return NULL;
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = tf_rmtree(PyBytes_AS_STRING(path), ignore ? TF_RMTREE_IGNORE_ERRORS : 0);
    err = errno;
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc < 0)
        return ct_oserror(err, args[0]);
    Py_RETURN_NONE;
}

/* ---- audit events ------------------------------------------------------------ */

/*
 * CPython's tempfile raises these through os.open, os.mkdir, os.remove and
 * shutil.rmtree; the library does each in one C call, so they are raised
 * here with the arguments those calls give: after a creation (which the
 * caller undoes if a hook refuses), before a removal.
 */
int ct_audit_new_file(PyObject *name)
{
    return PySys_Audit("tempfile.mkstemp", "O", name) < 0 ||
                   PySys_Audit("open", "OOi", name, Py_None,
                               O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC) < 0
               ? -1
               : 0;
}

static int audit_new_dir(PyObject *name)
{
    return PySys_Audit("tempfile.mkdtemp", "O", name) < 0 ||
                   PySys_Audit("os.mkdir", "Oii", name, 0700, -1) < 0
               ? -1
               : 0;
}

/* ---- low-level creation -------------------------------------------------- */

PyObject *ct_mkstemp_in(const ct_names *n, int want_bytes)
{
    tf_opts o;
    ct_names_opts(n, &o);
    char *path = NULL;
    int fd, err;
    Py_BEGIN_ALLOW_THREADS
    fd = tf_mkstemp(&o, &path);
    err = errno;
    Py_END_ALLOW_THREADS
    if (fd < 0)
        return ct_creation_error(err, n, want_bytes, 0);
    PyObject *name = name_out(path, want_bytes);
    if (!name || ct_audit_new_file(name) < 0) {
        close(fd);
        unlink(path);
        free(path);
        Py_XDECREF(name);
        return NULL;
    }
    PyObject *r = Py_BuildValue("(iN)", fd, name);
    if (!r) {
        close(fd);
        unlink(path);
    }
    free(path);
    return r;
}

PyObject *ct_mkdtemp_in(const ct_names *n, int want_bytes)
{
    tf_opts o;
    ct_names_opts(n, &o);
    char *path;
    int err;
    Py_BEGIN_ALLOW_THREADS
    path = tf_mkdtemp(&o);
    err = errno;
    Py_END_ALLOW_THREADS
    if (!path)
        return ct_creation_error(err, n, want_bytes, 1);
    PyObject *name = name_out(path, want_bytes);
    if (!name || audit_new_dir(name) < 0) {
        rmdir(path);
        free(path);
        Py_XDECREF(name);
        return NULL;
    }
    free(path);
    return name;
}

/* mkstemp_in(dir, prefix, suffix, want_bytes) -> (fd, name);
 * mkdtemp_in(dir, prefix, suffix, want_bytes) -> name */
static PyObject *call_in(PyObject *(*in)(const ct_names *, int), PyObject *const *args,
                         Py_ssize_t nargs, const char *fname)
{
    ct_names n;
    if (parse_names(&n, args, nargs, 4, fname, in == ct_mkdtemp_in ? "mkdir" : "open") < 0)
        return NULL;
    int want_bytes = PyObject_IsTrue(args[3]);
    PyObject *r = want_bytes < 0 ? NULL : in(&n, want_bytes);
    ct_names_clear(&n);
    return r;
}

static PyObject *ct_mkstemp(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    return call_in(ct_mkstemp_in, args, nargs, "mkstemp");
}

static PyObject *ct_mkdtemp(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    return call_in(ct_mkdtemp_in, args, nargs, "mkdtemp");
}

/* open_new(path, flags) -> fd: creates exactly path (caller-chosen names). */
static PyObject *ct_open_new(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "open_new(path, flags)");
        return NULL;
    }
    long flags = PyLong_AsLong(args[1]);
    PyObject *path;
    if ((flags == -1 && PyErr_Occurred()) || !PyUnicode_FSConverter(args[0], &path))
        return NULL;
    int fd, err;
    Py_BEGIN_ALLOW_THREADS
    fd = open(PyBytes_AS_STRING(path), (int)flags | O_CLOEXEC, 0600);
    err = errno;
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (fd < 0)
        return ct_oserror(err, args[0]);
    return PyLong_FromLong(fd);
}

/* mkdir_new(path): creates exactly the directory path, mode 0700. */
static PyObject *ct_mkdir_new(PyObject *m, PyObject *arg)
{
    (void)m;
    PyObject *path;
    if (!PyUnicode_FSConverter(arg, &path))
        return NULL;
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = mkdir(PyBytes_AS_STRING(path), 0700);
    err = errno;
    Py_END_ALLOW_THREADS
    Py_DECREF(path);
    if (rc < 0)
        return ct_oserror(err, arg);
    Py_RETURN_NONE;
}

/* ---- temporary files ------------------------------------------------------ */

int ct_unnamed_fd(const ct_names *n, int use_o_tmpfile)
{
    tf_opts o;
    ct_names_opts(n, &o);
    int fd = -1, err = 0;
    Py_BEGIN_ALLOW_THREADS
    tf_file *f = use_o_tmpfile ? tf_temporary_file(&o) : tf_named_temporary_file(&o);
    if (!f && use_o_tmpfile && errno == ENAMETOOLONG && (o.prefix || o.suffix)) {
        /* CPython's O_TMPFILE open uses no name: a prefix too long for a
         * name is fine there. */
        o.prefix = o.suffix = NULL;
        f = tf_temporary_file(&o);
    }
    if (f) {
        fd = tf_file_detach(f);   /* the descriptor is ours: no dup */
        err = errno;
        if (tf_file_release(f) < 0 && fd >= 0) {
            err = errno;
            close(fd);
            fd = -1;
        }
    } else {
        err = errno;
    }
    Py_END_ALLOW_THREADS
    /* CPython's os.open(dir, O_TMPFILE) audits, then fails or not. */
    int refused = use_o_tmpfile && PySys_Audit("open", "OOi", n->dir_obj, Py_None,
                                               O_RDWR | O_EXCL | O_NOFOLLOW | O_TMPFILE |
                                                   O_CLOEXEC) < 0;
    if (fd < 0) {
        if (!refused)
            ct_creation_error(err, n, n->dir_obj && PyBytes_Check(n->dir_obj), 0);
    } else if (refused) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/*
 * temporary_file(dir, prefix, suffix, use_o_tmpfile) -> fd: ct_unnamed_fd().
 */
static PyObject *ct_temporary_file(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    ct_names n;
    if (parse_names(&n, args, nargs, 4, "temporary_file", "open") < 0)
        return NULL;
    int tmpfile = PyObject_IsTrue(args[3]);
    int fd = tmpfile < 0 ? -1 : ct_unnamed_fd(&n, tmpfile);
    ct_names_clear(&n);
    return fd < 0 ? NULL : PyLong_FromLong(fd);
}

/* The handle of a named temporary file: removing its name is its job. */
typedef struct {
    PyObject_HEAD
    tf_file *f;
    PyObject *name;
} FileHandle;

static void FileHandle_dealloc(FileHandle *self)
{
    if (self->f) {
        /* Lost without remove(): the Python layer decided to keep the file. */
        tf_file_keep(self->f);
        tf_file_release(self->f);
    }
    Py_XDECREF(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyObject *ct_release(tf_file **slot, PyObject *filename)
{
    tf_file *f = *slot;
    *slot = NULL;
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = tf_file_release(f);
    err = errno;
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return ct_oserror(err, filename);
    Py_RETURN_NONE;
}

/* remove(): removes the name (unless already gone) and frees the handle. */
static PyObject *FileHandle_remove(FileHandle *self, PyObject *unused)
{
    (void)unused;
    if (!self->f)
        Py_RETURN_NONE;
    if (PySys_Audit("os.remove", "Oi", self->name, -1) < 0)
        return NULL;
    return ct_release(&self->f, self->name);
}

/* forget(): frees the handle and leaves the file where it is. */
static PyObject *FileHandle_forget(FileHandle *self, PyObject *unused)
{
    (void)unused;
    if (self->f) {
        tf_file_keep(self->f);
        tf_file_release(self->f);
        self->f = NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef FileHandle_methods[] = {
    {"remove", (PyCFunction)(void (*)(void))FileHandle_remove, METH_NOARGS,
     "Remove the file's name now (tf_file_release)."},
    {"forget", (PyCFunction)(void (*)(void))FileHandle_forget, METH_NOARGS,
     "Drop the handle, keeping the file (tf_file_keep + tf_file_release)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef FileHandle_members[] = {
    {"name", CT_T_OBJECT, offsetof(FileHandle, name), CT_READONLY, "the file's path"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FileHandle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile._ctempfile.FileHandle",
    .tp_basicsize = sizeof(FileHandle),
    .tp_dealloc = (destructor)FileHandle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Handle of a named temporary file (libtempfile tf_file).",
    .tp_methods = FileHandle_methods,
    .tp_members = FileHandle_members,
};

PyObject *ct_file_handle_new(tf_file *f, PyObject *name)
{
    FileHandle *h = PyObject_New(FileHandle, &FileHandle_Type);
    if (h) {
        h->f = f;
        h->name = Py_NewRef(name);
    }
    return (PyObject *)h;
}

tf_file *ct_file_handle_take(PyObject *handle)
{
    FileHandle *h = (FileHandle *)handle;
    tf_file *f = h->f;
    h->f = NULL;
    return f;
}

tf_file **ct_file_handle_slot(PyObject *handle)
{
    if (!PyObject_TypeCheck(handle, &FileHandle_Type)) {
        PyErr_Format(PyExc_TypeError, "expected a FileHandle, not %.100s", Py_TYPE(handle)->tp_name);
        return NULL;
    }
    return &((FileHandle *)handle)->f;
}

tf_file **ct_open_handle_slot(PyObject *handle)
{
    tf_file **slot = ct_file_handle_slot(handle);
    if (slot && !*slot) {
        ct_closed_error();
        return NULL;
    }
    return slot;
}

/*
 * named_temporary_file(dir, prefix, suffix, want_bytes, keep)
 *   -> (fd, name, handle).
 * The descriptor is the caller's; the handle removes the name on remove().
 * With keep (Python's delete=False) the library never removes the file, not
 * even at exit: the handle is then only a name.
 */
static PyObject *ct_named_temporary_file(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    ct_names n;
    if (parse_names(&n, args, nargs, 5, "named_temporary_file", "open") < 0)
        return NULL;
    int want_bytes = PyObject_IsTrue(args[3]);
    int keep = PyObject_IsTrue(args[4]);
    tf_opts o;
    ct_names_opts(&n, &o);
    o.flags = TF_NO_DELETE_ON_CLOSE | (keep ? TF_KEEP : 0);
    int fd = -1, err = 0;
    tf_file *f;
    Py_BEGIN_ALLOW_THREADS
    f = tf_named_temporary_file(&o);
    if (f) {
        /* The descriptor becomes ours; TF_NO_DELETE_ON_CLOSE keeps the name. */
        fd = tf_file_detach(f);
        err = errno;
        if (fd < 0) {
            tf_file_release(f);
            f = NULL;
        }
    } else {
        err = errno;
    }
    Py_END_ALLOW_THREADS
    if (!f) {
        ct_creation_error(err, &n, want_bytes, 0);
        ct_names_clear(&n);
        return NULL;
    }
    ct_names_clear(&n);
    FileHandle *h = PyObject_New(FileHandle, &FileHandle_Type);
    PyObject *name = name_out(tf_file_name(f), want_bytes);
    if (!h || !name || ct_audit_new_file(name) < 0) {
        close(fd);
        tf_file_release(f);
        Py_XDECREF(name);
        if (h) {
            h->f = NULL;
            h->name = NULL;
            Py_DECREF(h);
        }
        return NULL;
    }
    h->f = f;
    Py_INCREF(name);
    h->name = name;
    return Py_BuildValue("(iNN)", fd, name, (PyObject *)h);
}

/* ---- temporary directories ----------------------------------------------- */

typedef struct {
    PyObject_HEAD
    tf_dir *d;
    PyObject *name;
    int busy;
    int ignore;   /* ignore_cleanup_errors */
} DirHandle;

static void DirHandle_dealloc(DirHandle *self)
{
    if (self->d) {
        /* Removal is decided by the Python layer (cleanup / finalizer). */
        tf_dir_keep(self->d);
        tf_dir_release(self->d);
    }
    Py_XDECREF(self->name);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/*
 * What CPython's cleanup removes is what the path names. While that is the
 * directory d made, the library removes it through d. If it was renamed and
 * another directory made at its path, the one at the path is removed by name
 * (tf_rmtree never follows a link) and the renamed one is left, as CPython
 * leaves it; a file or a link there is ENOTDIR, whatever ignore says, for
 * the package to hand to shutil.rmtree, whose refusals are CPython's. The
 * check costs nothing on the common path: an empty directory goes with the
 * rmdir(2) the library would make first. 0 or -1 with errno;
 * *let_go: d has nothing left to do.
 */
static int remove_at_path(tf_dir *d, int ignore, bool *let_go)
{
    const char *path = tf_dir_name(d);
    *let_go = false;
    if (rmdir(path) == 0 || errno == ENOENT) {
        *let_go = true;
        return 0;
    }
    int fd = tf_dir_fileno(d);
    struct stat mine, there;
    if (errno == ENOTDIR && lstat(path, &there) == 0 && !S_ISDIR(there.st_mode)) {
        /* A file or a link at the path: shutil.rmtree's to refuse in its
         * words (the package calls it), never ours to empty. */
        *let_go = true;
        errno = ENOTDIR;
        return -1;
    }
    if ((errno == ENOTEMPTY || errno == EEXIST) && fd >= 0 && fstat(fd, &mine) == 0 &&
        lstat(path, &there) == 0 && (mine.st_dev != there.st_dev || mine.st_ino != there.st_ino)) {
        *let_go = true;
        return tf_rmtree(path, ignore ? TF_RMTREE_IGNORE_ERRORS : 0);
    }
    return tf_dir_cleanup(d);
}

/* cleanup(): removes what the path names (remove_at_path). A call while
 * another thread's runs waits for it, then has nothing left to do, or tries
 * again what that one could not remove (as CPython's second rmtree). Once
 * done (or let go), the handle is gone: alive is false. */
static PyObject *DirHandle_cleanup(DirHandle *self, PyObject *unused)
{
    (void)unused;
    while (self->busy) {
        Py_BEGIN_ALLOW_THREADS
        usleep(1000);
        Py_END_ALLOW_THREADS
    }
    if (!self->d)
        Py_RETURN_NONE;
    if (PySys_Audit("shutil.rmtree", "OO", self->name, Py_None) < 0)
        return NULL;
    self->busy = 1;
    int rc, err;
    bool let_go;
    Py_BEGIN_ALLOW_THREADS
    rc = remove_at_path(self->d, self->ignore, &let_go);
    err = errno;
    let_go = let_go || rc == 0;   /* removed: nothing left to do */
    if (let_go) {
        tf_dir_keep(self->d);
        tf_dir_release(self->d);
    }
    Py_END_ALLOW_THREADS
    if (let_go)
        self->d = NULL;
    self->busy = 0;
    if (rc < 0)
        return ct_oserror(err, self->name);
    Py_RETURN_NONE;
}

static PyMethodDef DirHandle_methods[] = {
    {"cleanup", (PyCFunction)(void (*)(void))DirHandle_cleanup, METH_NOARGS,
     "Remove the directory and its contents (tf_dir_cleanup)."},
    {NULL, NULL, 0, NULL},
};

/* alive: the handle still has a directory to clean up. */
static PyObject *DirHandle_alive(DirHandle *self, void *unused)
{
    (void)unused;
    return PyBool_FromLong(self->d != NULL);
}

static PyGetSetDef DirHandle_getset[] = {
    {"alive", (getter)DirHandle_alive, NULL, "whether cleanup() has something left to do", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef DirHandle_members[] = {
    {"name", CT_T_OBJECT, offsetof(DirHandle, name), CT_READONLY, "the directory's path"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject DirHandle_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile._ctempfile.DirHandle",
    .tp_basicsize = sizeof(DirHandle),
    .tp_dealloc = (destructor)DirHandle_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Handle of a temporary directory (libtempfile tf_dir).",
    .tp_methods = DirHandle_methods,
    .tp_members = DirHandle_members,
    .tp_getset = DirHandle_getset,
};

PyObject *ct_dir_handle_new(const ct_names *n, int want_bytes, int ignore, int keep)
{
    tf_opts o;
    ct_names_opts(n, &o);
    o.flags = (ignore ? TF_IGNORE_CLEANUP_ERRORS : 0) | (keep ? TF_KEEP : 0);
    tf_dir *d;
    int err;
    Py_BEGIN_ALLOW_THREADS
    d = tf_temporary_directory(&o);
    err = errno;
    Py_END_ALLOW_THREADS
    if (!d)
        return ct_creation_error(err, n, want_bytes, 1);
    DirHandle *h = PyObject_New(DirHandle, &DirHandle_Type);
    PyObject *name = name_out(tf_dir_name(d), want_bytes);
    if (!h || !name || audit_new_dir(name) < 0) {
        tf_dir_release(d);   /* not kept: removes the new directory */
        Py_XDECREF(name);
        if (h) {
            h->d = NULL;
            h->name = NULL;
            Py_DECREF(h);
        }
        return NULL;
    }
    h->d = d;
    h->name = name;
    h->busy = 0;
    h->ignore = ignore;
    return (PyObject *)h;
}

/*
 * temporary_directory(dir, prefix, suffix, want_bytes, ignore_errors, keep)
 *   -> DirHandle: ct_dir_handle_new().
 */
static PyObject *ct_temporary_directory(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    ct_names n;
    if (parse_names(&n, args, nargs, 6, "temporary_directory", "mkdir") < 0)
        return NULL;
    int want_bytes = PyObject_IsTrue(args[3]);
    int ignore = PyObject_IsTrue(args[4]);
    int keep = PyObject_IsTrue(args[5]);
    PyObject *r = want_bytes < 0 || ignore < 0 || keep < 0
                      ? NULL
                      : ct_dir_handle_new(&n, want_bytes, ignore, keep);
    ct_names_clear(&n);
    return r;
}

/* ---- module ---------------------------------------------------------------- */

/* _bind(package): where the C code reads ctempfile's globals. */
static PyObject *ct_bind(PyObject *m, PyObject *package)
{
    (void)m;
    Py_XSETREF(ct_package, Py_NewRef(package));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"random_name", ct_random_name, METH_NOARGS, "8 random characters of [a-z0-9_] (tf_random_chars)."},
    {"gettempprefix", ct_gettempprefix, METH_NOARGS, "tf_gettempprefix()."},
    {"candidate_tempdir_list", ct_candidate_tempdir_list, METH_NOARGS, "tf_candidate_tempdir_list()."},
    {"default_tempdir", ct_default_tempdir, METH_NOARGS, "The default directory, searched afresh."},
    {"probe_dir", ct_probe_dir, METH_O, "Whether a temporary file can be made, written and removed in dir."},
    {"rmtree", CT_FASTCALL(ct_rmtree), "rmtree(path, ignore_errors): tf_rmtree()."},
    {"mkstemp_in", CT_FASTCALL(ct_mkstemp), "mkstemp_in(dir, prefix, suffix, want_bytes) -> (fd, name)."},
    {"mkdtemp_in", CT_FASTCALL(ct_mkdtemp), "mkdtemp_in(dir, prefix, suffix, want_bytes) -> name."},
    {"open_new", CT_FASTCALL(ct_open_new), "open_new(path, flags) -> fd, for caller-chosen names."},
    {"mkdir_new", ct_mkdir_new, METH_O, "mkdir_new(path), for caller-chosen names."},
    {"temporary_file", CT_FASTCALL(ct_temporary_file), "temporary_file(dir, prefix, suffix, o_tmpfile) -> fd."},
    {"named_temporary_file", CT_FASTCALL(ct_named_temporary_file),
     "named_temporary_file(dir, prefix, suffix, want_bytes, keep) -> (fd, name, handle)."},
    {"temporary_directory", CT_FASTCALL(ct_temporary_directory),
     "temporary_directory(dir, prefix, suffix, want_bytes, ignore_errors, keep) -> DirHandle."},
    {"temporary_directory_fast", CT_FASTCALL(ct_temporary_directory_fast),
     "temporary_directory_fast(suffix, prefix, dir, ignore_errors, delete) -> DirHandle, or\n"
     "None where TemporaryDirectory's Python path must take the call."},
    {"_own_methods", ct_spooled_own_methods, METH_O,
     "_own_methods(cls): _Spooled's methods, as cls's own (for the fastest calls)."},
    {"_bind", ct_bind, METH_O, "_bind(package): where the C code reads the package's globals."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "ctempfile._ctempfile",
    .m_doc = "C core of ctempfile, on libtempfile's public API.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int add_type(PyObject *m, PyTypeObject *t, const char *name)
{
    if (PyType_Ready(t) < 0)
        return -1;
    Py_INCREF(t);
    if (PyModule_AddObject(m, name, (PyObject *)t) < 0) {
        Py_DECREF(t);
        return -1;
    }
    return 0;
}

/* Adds obj (a new reference, or NULL with an error) to m as name. */
static int add_new(PyObject *m, PyObject *obj, const char *name)
{
    if (!obj || PyModule_AddObject(m, name, obj) < 0) {
        Py_XDECREF(obj);
        return -1;
    }
    return 0;
}

/* The C versions of public functions, their __module__ the package's, as
 * CPython's are tempfile's. */
static int add_public_functions(PyObject *m, PyMethodDef *defs)
{
    PyObject *package = PyUnicode_FromString("ctempfile");
    int rc = package ? 0 : -1;
    for (PyMethodDef *def = defs; rc == 0 && def->ml_name; def++)
        rc = add_new(m, PyCFunction_NewEx(def, NULL, package), def->ml_name);
    Py_XDECREF(package);
    return rc;
}

PyMODINIT_FUNC PyInit__ctempfile(void)
{
    PyObject *io = PyImport_ImportModule("io");
    if (!io)
        return NULL;
    ct_io_TextIOWrapper = PyObject_GetAttrString(io, "TextIOWrapper");
    ct_io_UnsupportedOperation = PyObject_GetAttrString(io, "UnsupportedOperation");
    ct_io_module = io;
    if (!ct_io_TextIOWrapper || !ct_io_UnsupportedOperation ||
        ct_fdopen_init(io) < 0 || ct_fastpath_init() < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    if (add_type(m, &FileHandle_Type, "FileHandle") < 0 ||
        add_type(m, &DirHandle_Type, "DirHandle") < 0 ||
        add_type(m, &ct_SpoolBuffer_Type, "SpoolBuffer") < 0 ||
        add_type(m, &ct_FdOpener_Type, "FdOpener") < 0 ||
        add_new(m, ct_spooled_type(), "_Spooled") < 0 ||
        add_public_functions(m, ct_fastpath_methods) < 0 ||
        PyModule_AddIntConstant(m, "TMP_MAX", TF_TMP_MAX) < 0 ||
        PyModule_AddIntConstant(m, "RANDOM_CHARS", TF_RANDOM_CHARS) < 0 ||
        ct_durable_init(m) < 0 || ct_shred_init(m) < 0 || ct_handover_init(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
