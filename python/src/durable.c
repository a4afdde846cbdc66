/*
 * Durable data for ctempfile (ctempfile/_capabilities.py): the atomic replace
 * and lock-file handle behind atomic_write(), adoption of a descriptor the
 * Python objects hold (tf_file_adopt) and persist on such a handle. Paths
 * come in as filesystem bytes; the Python layer names the files in its
 * errors. Library failures of commit and persist come back as an errno in
 * the result, with the report, since a failure after the rename still has a
 * level to tell.
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* (err, level, not_copied, not_copied_errno) of a commit or persist. */
static PyObject *persist_result(int rc, int err, const tf_persist_report *r)
{
    return Py_BuildValue("(iiIi)", rc < 0 ? err : 0, r->level, r->not_copied,
                         r->not_copied_errno);
}

/* Reads the options tuple (level, flags, symlinks, mode, timeout_ms). */
static int parse_persist_opts(PyObject *t, tf_persist_opts *o)
{
    int level, symlinks;
    unsigned flags, mode;
    long timeout;
    if (!PyArg_ParseTuple(t, "iIiIl:persist options", &level, &flags, &symlinks, &mode,
                          &timeout))
        return -1;
    *o = (tf_persist_opts){ .level = level, .flags = flags, .symlinks = symlinks,
                            .mode = (mode_t)mode, .timeout_ms = timeout };
    return 0;
}

/* ---- Replace: a tf_replace_begin() or tf_lock_file() handle ------------- */

typedef struct {
    PyObject_HEAD
    tf_file *f;   /* NULL once committed or aborted */
    int busy;     /* a commit runs (without the GIL): f is not to be freed */
} Replace;

static void Replace_dealloc(Replace *self)
{
    tf_file_release(self->f);   /* uncommitted: the temporary goes */
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Another thread's commit() is working on the handle. */
static PyObject *busy_error(void)
{
    PyErr_SetString(PyExc_RuntimeError, "commit() under way in another thread");
    return NULL;
}

/* The handle, unless committed or aborted, or being committed (fileno and
 * name too wait for no commit: it may rename and free what they read). */
static tf_file *replace_open(Replace *self)
{
    if (self->busy) {
        busy_error();
        return NULL;
    }
    if (!self->f)
        ct_closed_error();
    return self->f;
}

static PyObject *Replace_fileno(Replace *self, PyObject *unused)
{
    (void)unused;
    tf_file *f = replace_open(self);
    int fd = f ? tf_file_fileno(f) : -1;
    if (f && fd < 0)
        return ct_errno_error();
    return f ? PyLong_FromLong(fd) : NULL;
}

/* The temporary's absolute name (bytes). */
static PyObject *Replace_name(Replace *self, void *unused)
{
    (void)unused;
    tf_file *f = replace_open(self);
    const char *name = f ? tf_file_name(f) : NULL;
    if (f && !name)
        return ct_errno_error();
    return name ? PyBytes_FromString(name) : NULL;
}

/* commit() -> (err, level, not_copied, not_copied_errno). The handle is
 * released after a rename (done), and kept for abort() before one. */
static PyObject *Replace_commit(Replace *self, PyObject *unused)
{
    (void)unused;
    tf_file *f = replace_open(self);
    if (!f)
        return NULL;
    tf_persist_report r = { 0 };
    int rc, err;
    self->busy = 1;
    Py_BEGIN_ALLOW_THREADS
    rc = tf_file_commit(f, &r);
    err = errno;
    Py_END_ALLOW_THREADS
    self->busy = 0;
    if (rc >= 0 || r.level > 0) {
        self->f = NULL;
        tf_file_release(f);   /* it names the destination now: nothing removed */
    }
    return persist_result(rc, err, &r);
}

/* abort(): removes the temporary; the destination is untouched. */
static PyObject *Replace_abort(Replace *self, PyObject *unused)
{
    (void)unused;
    if (self->busy)
        return busy_error();
    return ct_release(&self->f, NULL);
}

static PyMethodDef Replace_methods[] = {
    {"fileno", CT_NOARGS(Replace_fileno), "The temporary's descriptor (owned by the handle)."},
    {"commit", CT_NOARGS(Replace_commit),
     "commit() -> (err, level, not_copied, not_copied_errno): tf_file_commit."},
    {"abort", CT_NOARGS(Replace_abort), "Remove the temporary (tf_file_release)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Replace_getset[] = {
    {"name", (getter)Replace_name, NULL, "the temporary's absolute name (bytes)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject ct_Replace_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile._ctempfile.Replace",
    .tp_basicsize = sizeof(Replace),
    .tp_dealloc = (destructor)Replace_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "An atomic replace or lock file under way (tf_replace_begin, tf_lock_file).",
    .tp_methods = Replace_methods,
    .tp_getset = Replace_getset,
};

/* replace_begin(dest, options, lock) -> Replace: tf_replace_begin or tf_lock_file. */
static PyObject *ct_replace_begin(PyObject *m, PyObject *args)
{
    (void)m;
    const char *dest;
    PyObject *opts;
    int lock;
    tf_persist_opts o;
    if (!PyArg_ParseTuple(args, "yO!p:replace_begin", &dest, &PyTuple_Type, &opts, &lock) ||
        parse_persist_opts(opts, &o) < 0)
        return NULL;
    Replace *self = PyObject_New(Replace, &ct_Replace_Type);
    if (!self)
        return NULL;
    self->busy = 0;
    tf_file *f;
    int err;
    Py_BEGIN_ALLOW_THREADS
    f = lock ? tf_lock_file(dest, &o) : tf_replace_begin(dest, &o);
    err = errno;
    Py_END_ALLOW_THREADS
    self->f = f;
    if (!f) {
        Py_DECREF(self);
        return ct_oserror(err, NULL);
    }
    return (PyObject *)self;
}

/* ---- adoption and persist ------------------------------------------------ */

/*
 * adopt(fd, path or None, flags) -> FileHandle around a dup of fd
 * (tf_file_adopt): the caller's descriptor stays the caller's.
 */
static PyObject *ct_adopt(PyObject *m, PyObject *args)
{
    (void)m;
    int fd;
    PyObject *path;
    unsigned flags;
    if (!PyArg_ParseTuple(args, "iOI:adopt", &fd, &path, &flags))
        return NULL;
    if (path != Py_None && !PyBytes_Check(path))
        return PyErr_Format(PyExc_TypeError, "adopt: path must be bytes or None");
    const char *p = path == Py_None ? NULL : PyBytes_AS_STRING(path);
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return ct_errno_error();
    tf_file *f = tf_file_adopt(dup, p, flags);
    if (!f) {
        int err = errno;
        close(dup);
        return ct_oserror(err, NULL);
    }
    PyObject *h = ct_file_handle_new(f, path == Py_None ? Py_None : path);
    if (!h) {
        tf_file_keep(f);
        tf_file_release(f);
    }
    return h;
}

/* handle_persist(handle, dest, options)
 *   -> ((err, level, not_copied, not_copied_errno), the file's new name or None). */
static PyObject *ct_handle_persist(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *handle, *opts;
    const char *dest;
    tf_persist_opts o;
    if (!PyArg_ParseTuple(args, "OyO!:handle_persist", &handle, &dest, &PyTuple_Type, &opts) ||
        parse_persist_opts(opts, &o) < 0)
        return NULL;
    tf_file **slot = ct_open_handle_slot(handle);
    if (!slot)
        return NULL;
    tf_persist_report r = { 0 };
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = tf_file_persist(*slot, dest, &o, &r);
    err = errno;
    Py_END_ALLOW_THREADS
    PyObject *result = persist_result(rc, err, &r);
    /* Where the file is now (a followed link's target): the handle knows. */
    PyObject *where = r.level > 0 ? PyBytes_FromString(tf_file_name(*slot)) : Py_NewRef(Py_None);
    if (!result || !where) {
        Py_XDECREF(result);
        Py_XDECREF(where);
        return NULL;
    }
    return Py_BuildValue("(NN)", result, where);
}

static PyMethodDef ct_durable_methods[] = {
    {"replace_begin", CT_VARARGS(ct_replace_begin),
     "replace_begin(dest, (level, flags, symlinks, mode, timeout_ms), lock) -> Replace."},
    {"adopt", CT_VARARGS(ct_adopt), "adopt(fd, path or None, flags) -> FileHandle (tf_file_adopt)."},
    {"handle_persist", CT_VARARGS(ct_handle_persist),
     "handle_persist(handle, dest, options) -> ((err, level, not_copied, errno), new name)."},
    {NULL, NULL, 0, NULL},
};

int ct_durable_init(PyObject *m)
{
    static const struct { const char *name; long value; } constants[] = {
        {"LEVEL_VISIBLE", TF_LEVEL_VISIBLE},
        {"LEVEL_CONSISTENT", TF_LEVEL_CONSISTENT},
        {"LEVEL_DURABLE", TF_LEVEL_DURABLE},
        {"SYMLINK_FOLLOW", TF_SYMLINK_FOLLOW},
        {"SYMLINK_REPLACE", TF_SYMLINK_REPLACE},
        {"SYMLINK_REFUSE", TF_SYMLINK_REFUSE},
        {"PERSIST_NOCLOBBER", TF_PERSIST_NOCLOBBER},
        {"PERSIST_STRICT", TF_PERSIST_STRICT},
        {"PERSIST_BEST_EFFORT", TF_PERSIST_BEST_EFFORT},
        {"PERSIST_COPY", TF_PERSIST_COPY},
        {"META_OWNER", TF_META_OWNER},
        {"META_XATTR", TF_META_XATTR},
        {"META_ACL", TF_META_ACL},
        {"KEEP", TF_KEEP},
        {"NO_DELETE_ON_CLOSE", TF_NO_DELETE_ON_CLOSE},
    };
    if (PyType_Ready(&ct_Replace_Type) < 0 || PyModule_AddFunctions(m, ct_durable_methods) < 0)
        return -1;
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
            return -1;
    return 0;
}
