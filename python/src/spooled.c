/*
 * SpooledTemporaryFile's C type, the base of ctempfile.SpooledTemporaryFile.
 * Its _file is the SpoolBuffer (binary mode, spool_buffer.c) or a
 * TextIOWrapper over it (text mode) while in memory; once the library has
 * rolled the data to disk, _file becomes a real io object (ct_fdopen on a
 * duplicate of the library's descriptor), as CPython's TemporaryFile() is.
 * write() of bytes in memory goes straight to tf_file_write().
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

typedef struct {
    PyObject_HEAD
    PyObject *file;       /* the current _file; NULL before _setup() */
    SpoolBuffer *buf;     /* the memory file, NULL once on disk as an io object */
    PyObject *mode;
    PyObject *buffering;
    PyObject *encoding;
    PyObject *newline;
    PyObject *errors;
    PyObject *max_size_obj;
    Py_ssize_t max_size;
    int binary;
    int rolled;
    PyObject *dict;
    PyObject *weakreflist;
} Spooled;

static PyObject *not_set_up(void)
{
    PyErr_SetString(PyExc_ValueError, "SpooledTemporaryFile not initialized");
    return NULL;
}

#define SP_CHECK(self)              \
    do {                            \
        if (!(self)->file)          \
            return not_set_up();    \
    } while (0)

/* Calls self->file.<name>(*args). */
static PyObject *call_file(Spooled *self, const char *name, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *stack[4];
    if (nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "too many arguments");
        return NULL;
    }
    PyObject *meth = PyUnicode_InternFromString(name);
    if (!meth)
        return NULL;
    stack[0] = self->file;
    for (Py_ssize_t i = 0; i < nargs; i++)
        stack[i + 1] = args[i];
    PyObject *r = PyObject_VectorcallMethod(meth, stack, (size_t)(nargs + 1), NULL);
    Py_DECREF(meth);
    return r;
}

/*
 * The library has rolled the data to disk: from now on _file is an io object
 * on a duplicate of the library's descriptor, made as CPython's TemporaryFile()
 * (same mode, buffering, encoding, newline, errors; name is the descriptor).
 */
static int switch_to_disk(Spooled *self)
{
    SpoolBuffer *buf = self->buf;
    int fd = tf_file_fileno(buf->f);
    if (fd < 0) {
        ct_errno_error();
        return -1;
    }
    /* A duplicate of its own, which the library's release leaves open. */
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        ct_errno_error();
        return -1;
    }
    PyObject *no_name = PyUnicode_FromString("");   /* the file io.open is given */
    PyObject *newfile = no_name ? ct_fdopen(fd, no_name, self->mode, self->buffering,
                                            self->encoding, self->errors, self->newline, NULL)
                                : (close(fd), NULL);
    Py_XDECREF(no_name);
    if (!newfile)
        return -1;
    if (!self->binary) {
        /* Carry the text position over, as CPython's rollover() does. */
        PyObject *pos = call_file(self, "tell", NULL, 0);
        PyObject *detached = pos ? call_file(self, "detach", NULL, 0) : NULL;
        Py_XDECREF(detached);
        PyObject *r = detached ? PyObject_CallMethod(newfile, "seek", "(Oi)", pos, 0) : NULL;
        Py_XDECREF(pos);
        if (!r)
            goto fail;
        Py_DECREF(r);
    }
    tf_file *f = buf->f;
    buf->f = NULL;
    tf_file_release(f);   /* our duplicate keeps the file */
    Py_SETREF(self->file, newfile);
    self->buf = NULL;
    Py_DECREF(buf);
    self->rolled = 1;
    return 0;
fail:
    ct_close_keeping_error(newfile);
    Py_DECREF(newfile);
    return -1;
}

/* After a call that may have rolled over: switch _file if the library did. */
static int check_rolled(Spooled *self)
{
    if (self->buf && self->buf->f && tf_file_rolled(self->buf->f) == 1)
        return switch_to_disk(self);
    return 0;
}

static int do_rollover(Spooled *self)
{
    if (self->rolled || !self->buf)
        return 0;
    if (!self->buf->f) {
        ct_closed_error();
        return -1;
    }
    if (!self->binary) {
        PyObject *r = call_file(self, "flush", NULL, 0);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    if (tf_file_rollover(self->buf->f) < 0) {
        ct_errno_error();
        return -1;
    }
    return switch_to_disk(self);
}

static PyObject *sp_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    Spooled *self = (Spooled *)type->tp_alloc(type, 0);
    return (PyObject *)self;
}

/* args: max_size, mode, buffering, encoding, newline, suffix, prefix, dir, errors */
static PyObject *sp_setup(Spooled *self, PyObject *const *args)
{
    if (self->file) {
        PyErr_SetString(PyExc_RuntimeError, "already initialized");
        return NULL;
    }
    PyObject *max_size = args[0], *mode = args[1];
    Py_ssize_t ms = PyNumber_AsSsize_t(max_size, PyExc_OverflowError);
    if (ms == -1 && PyErr_Occurred())
        return NULL;
    PyObject *b = PyUnicode_FromString("b");
    int binary = b ? PySequence_Contains(mode, b) : -1;
    Py_XDECREF(b);
    if (binary < 0)
        return NULL;
    ct_names n;
    if (ct_names_parse(&n, args[7], args[6], args[5]) < 0)
        return NULL;
    tf_opts o;
    ct_names_opts(&n, &o);
    /* max_size 0 never rolls by size; a negative one rolls at the first write. */
    o.max_size = ms > 0 ? (size_t)ms : 0;
    tf_file *f = tf_spooled_temporary_file(&o);
    int err = errno;
    ct_names_clear(&n);
    if (!f)
        return ct_oserror(err, NULL);
    SpoolBuffer *buf = PyObject_New(SpoolBuffer, &ct_SpoolBuffer_Type);
    if (!buf) {
        tf_file_release(f);
        return NULL;
    }
    buf->f = f;
    PyObject *file;
    if (binary) {
        file = Py_NewRef(buf);
    } else {
        PyObject *a = Py_BuildValue("(O)", (PyObject *)buf);
        PyObject *kw = a ? Py_BuildValue("{sOsOsO}", "encoding", args[3], "errors", args[8],
                                         "newline", args[4]) : NULL;
        file = kw ? PyObject_Call(ct_io_TextIOWrapper, a, kw) : NULL;
        Py_XDECREF(a);
        Py_XDECREF(kw);
        if (!file) {
            Py_DECREF(buf);
            return NULL;
        }
    }
    self->file = file;
    self->buf = buf;
    self->binary = binary;
    self->max_size = ms;
    self->max_size_obj = Py_NewRef(max_size);
    self->mode = Py_NewRef(mode);
    self->buffering = Py_NewRef(args[2]);
    self->encoding = Py_NewRef(args[3]);
    self->newline = Py_NewRef(args[4]);
    self->errors = Py_NewRef(args[8]);
    Py_RETURN_NONE;
}

/* The package's attribute name, or a new reference to fallback. */
static PyObject *package_attr(const char *name, PyObject *fallback)
{
    if (ct_package) {
        PyObject *v = PyObject_GetAttrString(ct_package, name);
        if (v)
            return v;
        PyErr_Clear();
    }
    return Py_NewRef(fallback);
}

static int sp_init(Spooled *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = { "max_size", "mode", "buffering", "encoding", "newline",
                              "suffix", "prefix", "dir", "errors", NULL };
    PyObject *a[9] = { NULL, NULL, NULL, Py_None, Py_None, Py_None, Py_None, Py_None, Py_None };
    PyObject *zero = PyLong_FromLong(0), *minus1 = PyLong_FromLong(-1);
    PyObject *mode = PyUnicode_FromString("w+b");
    a[0] = zero;
    a[1] = mode;
    a[2] = minus1;
    int rc = -1;
    PyObject *encoding = NULL, *prefix = NULL, *dir = NULL, *r = NULL;
    if (!zero || !minus1 || !mode ||
        !PyArg_ParseTupleAndKeywords(args, kw, "|OOOOOOOO$O:SpooledTemporaryFile", kwlist,
                                     &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7], &a[8]))
        goto out;
    PyObject *b = PyUnicode_FromString("b");
    int binary = b ? PySequence_Contains(a[1], b) : -1;
    Py_XDECREF(b);
    if (binary < 0)
        goto out;
    if (!binary) {
        /* io.text_encoding(): the locale encoding, with EncodingWarning if asked */
        PyObject *io = PyImport_ImportModule("io");
        encoding = io ? PyObject_CallMethod(io, "text_encoding", "O", a[3]) : NULL;
        Py_XDECREF(io);
        if (!encoding)
            goto out;
        a[3] = encoding;
    }
    if (a[6] == Py_None) {
        PyObject *dflt = PyUnicode_FromString(tf_gettempprefix());
        prefix = dflt ? package_attr("template", dflt) : NULL;
        Py_XDECREF(dflt);
        if (!prefix)
            goto out;
        a[6] = prefix;
    }
    if (a[7] == Py_None) {
        /* tempfile.tempdir if set, else the library's default at rollover */
        dir = package_attr("tempdir", Py_None);
        a[7] = dir;
    }
    r = sp_setup(self, a);
    rc = r ? 0 : -1;
out:
    Py_XDECREF(r);
    Py_XDECREF(encoding);
    Py_XDECREF(prefix);
    Py_XDECREF(dir);
    Py_XDECREF(zero);
    Py_XDECREF(minus1);
    Py_XDECREF(mode);
    return rc;
}

/* CPython's _check() after a write: the library rolls over by itself once the
 * position passes max_size; text mode flushes first (tell()) so it sees it. */
static int after_write(Spooled *self)
{
    if (!self->buf)
        return 0;
    if (self->max_size < 0)
        return do_rollover(self);
    if (!self->binary && self->max_size > 0) {
        PyObject *r = call_file(self, "tell", NULL, 0);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    return check_rolled(self);
}

static PyObject *sp_write(Spooled *self, PyObject *arg)
{
    SP_CHECK(self);
    SpoolBuffer *buf = self->buf;
    if (self->binary && buf && buf->f) {
        ssize_t n;
        if (PyBytes_CheckExact(arg)) {
            n = tf_file_write(buf->f, PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg));
        } else {
            Py_buffer v;
            if (PyObject_GetBuffer(arg, &v, PyBUF_SIMPLE) < 0)
                return NULL;
            n = tf_file_write(buf->f, v.buf, (size_t)v.len);
            PyBuffer_Release(&v);
        }
        if (n < 0)
            return ct_errno_error();
        if (self->max_size && after_write(self) < 0)
            return NULL;
        return PyLong_FromSsize_t(n);
    }
    PyObject *r = call_file(self, "write", &arg, 1);
    if (r && after_write(self) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *sp_writelines(Spooled *self, PyObject *arg)
{
    SP_CHECK(self);
    PyObject *r = call_file(self, "writelines", &arg, 1);
    if (r && after_write(self) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *sp_truncate(Spooled *self, PyObject *const *args, Py_ssize_t nargs)
{
    SP_CHECK(self);
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "truncate() takes at most 1 argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        int bigger = PyObject_RichCompareBool(args[0], self->max_size_obj, Py_GT);
        if (bigger < 0 || (bigger && do_rollover(self) < 0))
            return NULL;
    } else {
        nargs = 0;
    }
    PyObject *r = call_file(self, "truncate", args, nargs);
    if (r && check_rolled(self) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *sp_rollover(Spooled *self, PyObject *unused)
{
    (void)unused;
    SP_CHECK(self);
    if (do_rollover(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *sp_fileno(Spooled *self, PyObject *unused)
{
    (void)unused;
    SP_CHECK(self);
    if (do_rollover(self) < 0)
        return NULL;
    return call_file(self, "fileno", NULL, 0);
}

#define DELEGATE(cname, pyname)                                                      \
    static PyObject *cname(Spooled *self, PyObject *const *args, Py_ssize_t nargs)   \
    {                                                                                \
        SP_CHECK(self);                                                              \
        return call_file(self, pyname, args, nargs);                                 \
    }

DELEGATE(sp_read, "read")
DELEGATE(sp_read1, "read1")
DELEGATE(sp_readinto, "readinto")
DELEGATE(sp_readinto1, "readinto1")
DELEGATE(sp_readline, "readline")
DELEGATE(sp_readlines, "readlines")
DELEGATE(sp_seek, "seek")
DELEGATE(sp_tell, "tell")
DELEGATE(sp_flush, "flush")
DELEGATE(sp_isatty, "isatty")
DELEGATE(sp_readable, "readable")
DELEGATE(sp_writable, "writable")
DELEGATE(sp_seekable, "seekable")
DELEGATE(sp_detach, "detach")
DELEGATE(sp_close, "close")

static PyObject *sp_enter(Spooled *self, PyObject *unused)
{
    (void)unused;
    SP_CHECK(self);
    PyObject *c = PyObject_GetAttrString(self->file, "closed");
    int closed = c ? PyObject_IsTrue(c) : -1;
    Py_XDECREF(c);
    if (closed < 0)
        return NULL;
    if (closed) {
        PyErr_SetString(PyExc_ValueError, "Cannot enter context with closed file");
        return NULL;
    }
    return Py_NewRef(self);
}

static PyObject *sp_exit(Spooled *self, PyObject *args)
{
    (void)args;
    SP_CHECK(self);
    PyObject *r = call_file(self, "close", NULL, 0);
    if (!r)
        return NULL;
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *sp_iter(Spooled *self)
{
    SP_CHECK(self);
    return PyObject_GetIter(self->file);
}

static PyObject *sp_next(Spooled *self)
{
    SP_CHECK(self);
    PyObject *line = PyObject_CallMethod((PyObject *)self, "readline", NULL);
    if (!line)
        return NULL;
    Py_ssize_t n = PyObject_Length(line);
    if (n <= 0) {
        Py_DECREF(line);
        return NULL;
    }
    return line;
}

static PyObject *get_file_attr(Spooled *self, const char *name)
{
    if (!self->file)
        return not_set_up();
    return PyObject_GetAttrString(self->file, name);
}

static PyObject *sp_get_closed(Spooled *self, void *c)
{
    (void)c;
    return get_file_attr(self, "closed");
}

static PyObject *sp_get_encoding(Spooled *self, void *c)
{
    (void)c;
    return get_file_attr(self, "encoding");
}

static PyObject *sp_get_errors(Spooled *self, void *c)
{
    (void)c;
    return get_file_attr(self, "errors");
}

static PyObject *sp_get_newlines(Spooled *self, void *c)
{
    (void)c;
    return get_file_attr(self, "newlines");
}

static PyObject *sp_get_mode(Spooled *self, void *c)
{
    (void)c;
    PyObject *r = get_file_attr(self, "mode");
    if (!r && self->file && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        r = Py_NewRef(self->mode);
    }
    return r;
}

static PyObject *sp_get_name(Spooled *self, void *c)
{
    (void)c;
    PyObject *r = get_file_attr(self, "name");
    if (!r && self->file && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        Py_RETURN_NONE;
    }
    return r;
}

static PyObject *sp_get_rolled(Spooled *self, void *c)
{
    (void)c;
    int rolled = self->rolled || (self->buf && self->buf->f && tf_file_rolled(self->buf->f) == 1);
    return PyBool_FromLong(rolled);
}

static PyObject *sp_get_file(Spooled *self, void *c)
{
    (void)c;
    if (!self->file)
        return not_set_up();
    return Py_NewRef(self->file);
}

static PyObject *sp_get_max_size(Spooled *self, void *c)
{
    (void)c;
    if (!self->file)
        return not_set_up();
    return Py_NewRef(self->max_size_obj);
}

static void sp_finalize(PyObject *op)
{
    Spooled *self = (Spooled *)op;
    if (!self->file)
        return;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
#else
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
#endif
    PyObject *c = PyObject_GetAttrString(self->file, "closed");
    int closed = c ? PyObject_IsTrue(c) : 1;
    Py_XDECREF(c);
    if (!closed) {
        if (PyErr_ResourceWarning(op, 1, "Unclosed file %R", op) < 0)
            PyErr_WriteUnraisable(op);
        PyObject *r = PyObject_CallMethod(op, "close", NULL);
        if (!r)
            PyErr_WriteUnraisable(op);
        Py_XDECREF(r);
    }
    PyErr_Clear();
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(et, ev, tb);
#endif
}

static int sp_traverse(Spooled *self, visitproc visit, void *arg)
{
    Py_VISIT(self->file);
    Py_VISIT(self->buf);
    Py_VISIT(self->mode);
    Py_VISIT(self->buffering);
    Py_VISIT(self->encoding);
    Py_VISIT(self->newline);
    Py_VISIT(self->errors);
    Py_VISIT(self->max_size_obj);
    Py_VISIT(self->dict);
    return 0;
}

static int sp_clear(Spooled *self)
{
    Py_CLEAR(self->file);
    Py_CLEAR(self->buf);
    Py_CLEAR(self->mode);
    Py_CLEAR(self->buffering);
    Py_CLEAR(self->encoding);
    Py_CLEAR(self->newline);
    Py_CLEAR(self->errors);
    Py_CLEAR(self->max_size_obj);
    Py_CLEAR(self->dict);
    return 0;
}

static void sp_dealloc(Spooled *self)
{
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0)
        return;
    PyObject_GC_UnTrack(self);
    if (self->weakreflist)
        PyObject_ClearWeakRefs((PyObject *)self);
    sp_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef sp_methods[] = {
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
    {"write", CT_ONEARG(sp_write), NULL},
    {"writelines", CT_ONEARG(sp_writelines), NULL},
    {"truncate", CT_FASTCALL(sp_truncate), NULL},
    {"rollover", CT_NOARGS(sp_rollover), NULL},
    {"fileno", CT_NOARGS(sp_fileno), NULL},
    {"read", CT_FASTCALL(sp_read), NULL},
    {"read1", CT_FASTCALL(sp_read1), NULL},
    {"readinto", CT_FASTCALL(sp_readinto), NULL},
    {"readinto1", CT_FASTCALL(sp_readinto1), NULL},
    {"readline", CT_FASTCALL(sp_readline), NULL},
    {"readlines", CT_FASTCALL(sp_readlines), NULL},
    {"seek", CT_FASTCALL(sp_seek), NULL},
    {"tell", CT_FASTCALL(sp_tell), NULL},
    {"flush", CT_FASTCALL(sp_flush), NULL},
    {"isatty", CT_FASTCALL(sp_isatty), NULL},
    {"readable", CT_FASTCALL(sp_readable), NULL},
    {"writable", CT_FASTCALL(sp_writable), NULL},
    {"seekable", CT_FASTCALL(sp_seekable), NULL},
    {"detach", CT_FASTCALL(sp_detach), NULL},
    {"close", CT_FASTCALL(sp_close), NULL},
    {"__enter__", CT_NOARGS(sp_enter), NULL},
    {"__exit__", CT_VARARGS(sp_exit), NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sp_getset[] = {
    {"closed", (getter)sp_get_closed, NULL, NULL, NULL},
    {"encoding", (getter)sp_get_encoding, NULL, NULL, NULL},
    {"errors", (getter)sp_get_errors, NULL, NULL, NULL},
    {"newlines", (getter)sp_get_newlines, NULL, NULL, NULL},
    {"mode", (getter)sp_get_mode, NULL, NULL, NULL},
    {"name", (getter)sp_get_name, NULL, NULL, NULL},
    {"_rolled", (getter)sp_get_rolled, NULL, NULL, NULL},
    {"_file", (getter)sp_get_file, NULL, NULL, NULL},
    {"_max_size", (getter)sp_get_max_size, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject ct_Spooled_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile.SpooledTemporaryFile",
    .tp_basicsize = sizeof(Spooled),
    .tp_dealloc = (destructor)sp_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "SpooledTemporaryFile(max_size=0, mode='w+b', buffering=-1, encoding=None, "
              "newline=None, suffix=None, prefix=None, dir=None, *, errors=None)\n--\n\n"
              "A temporary file held in memory by libtempfile (which wipes it before\n"
              "freeing it) until it grows past max_size or fileno() is called; it then\n"
              "rolls over to a TemporaryFile on disk. Binary or text by mode.",
    .tp_dictoffset = offsetof(Spooled, dict),
    .tp_weaklistoffset = offsetof(Spooled, weakreflist),
    .tp_init = (initproc)sp_init,
    .tp_traverse = (traverseproc)sp_traverse,
    .tp_clear = (inquiry)sp_clear,
    .tp_iter = (getiterfunc)sp_iter,
    .tp_iternext = (iternextfunc)sp_next,
    .tp_methods = sp_methods,
    .tp_getset = sp_getset,
    .tp_new = sp_new,
    .tp_finalize = sp_finalize,
};
