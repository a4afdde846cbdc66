/*
 * SpooledTemporaryFile's C type (_Spooled), the base of
 * ctempfile.SpooledTemporaryFile, which adds io.IOBase (as CPython's class
 * is one). _Spooled extends io's C base _io._IOBase, whose two fields (the
 * instance dict and weak references) it starts with.
 *
 * Its _file is the SpoolBuffer (binary mode, spool_buffer.c) or a
 * TextIOWrapper over it (text mode) while in memory; once the data is rolled
 * to disk, _file becomes a real io object (ct_fdopen on the library's
 * descriptor, taken over), as CPython's TemporaryFile() is. write() of bytes
 * in memory goes straight to tf_file_write().
 */
#include "module.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* How writes roll over, by max_size as CPython's _check() reads it
 * (`if max_size and file.tell() > max_size`). */
enum by_size {
    BY_LIBRARY,   /* a positive int: the library rolls over by itself */
    BY_NEVER,     /* a false value (0, None): writes never roll over */
    BY_ANY_WRITE, /* a negative int: every write rolls over */
    BY_COMPARE,   /* anything else (a float...): tell() > max_size, in Python */
};

typedef struct {
    PyObject_HEAD
    PyObject *dict;          /* _io._IOBase's fields, in its order */
    PyObject *weakreflist;
    PyObject *file;          /* the current _file; NULL before _setup() */
    SpoolBuffer *buf;        /* the memory file, NULL once on disk as an io object */
    PyObject *mode;
    PyObject *buffering;
    PyObject *encoding;
    PyObject *newline;
    PyObject *errors;
    PyObject *max_size_obj;
    PyObject *given;         /* (prefix, suffix, dir) as given */
    /* The names were not all str or None: CPython's TemporaryFile() checks
     * them at rollover, and so does this. */
    int check_names;
    enum by_size by_size;
    int binary;
    int rolled;
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

/* The library's descriptor, taken over from the rolled-over spool: the number
 * the rollover got (the lowest free one, as CPython's TemporaryFile gets). */
static int take_descriptor(SpoolBuffer *buf)
{
    tf_file *f = buf->f;
    buf->f = NULL;
    int fd = tf_file_detach(f);
    int err = errno;
    tf_file_release(f);
    if (fd < 0) {
        errno = err;
        ct_errno_error();
    }
    return fd;
}

/* Seeks newfile to pos (a text position carried over), unless pos is NULL. */
static int seek_to(PyObject *newfile, PyObject *pos)
{
    if (!pos)
        return 0;
    PyObject *r = PyObject_CallMethod(newfile, "seek", "(Oi)", pos, 0);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/*
 * The library has rolled the data to disk: from now on _file is an io object
 * on its descriptor, made as CPython's TemporaryFile() (same mode, buffering,
 * encoding, newline, errors; name is the descriptor).
 */
static int switch_to_disk(Spooled *self)
{
    PyObject *pos = NULL;
    if (!self->binary) {
        /* The text position carries over; the wrapper lets the buffer go. */
        pos = call_file(self, "tell", NULL, 0);
        PyObject *detached = pos ? call_file(self, "detach", NULL, 0) : NULL;
        if (!detached) {
            Py_XDECREF(pos);
            return -1;
        }
        Py_DECREF(detached);
    }
    SpoolBuffer *buf = self->buf;
    int fd = take_descriptor(buf);
    PyObject *no_name = fd < 0 ? NULL : PyUnicode_FromString("");   /* io.open's file */
    PyObject *newfile = no_name ? ct_fdopen(fd, no_name, self->mode, self->buffering,
                                            self->encoding, self->errors, self->newline, NULL)
                                : (fd >= 0 ? close(fd) : 0, NULL);
    Py_XDECREF(no_name);
    if (newfile && seek_to(newfile, pos) < 0) {
        ct_close_keeping_error(newfile);
        Py_CLEAR(newfile);
    }
    Py_XDECREF(pos);
    if (!newfile)
        return -1;
    Py_SETREF(self->file, newfile);
    self->buf = NULL;
    Py_DECREF(buf);
    self->rolled = 1;
    return 0;
}

/* After a call that may have rolled over: switch _file if the library did. */
static int check_rolled(Spooled *self)
{
    if (self->buf && self->buf->f && tf_file_rolled(self->buf->f) == 1)
        return switch_to_disk(self);
    return 0;
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

/* The names' errors CPython's TemporaryFile() raises at rollover: mixed str
 * and bytes (its _sanitize_params), a dir that is no path. */
static int check_names(Spooled *self)
{
    if (!self->check_names)
        return 0;
    PyObject *sanitize = package_attr("_sanitize_params", Py_None);
    PyObject *r = sanitize != Py_None ? PyObject_Call(sanitize, self->given, NULL) : NULL;
    Py_DECREF(sanitize);
    if (!r)
        return PyErr_Occurred() ? -1 : 0;
    Py_DECREF(r);
    PyObject *dir = PyTuple_GET_ITEM(self->given, 2), *path = NULL;
    if (dir != Py_None && !PyUnicode_FSConverter(dir, &path))
        return -1;
    Py_XDECREF(path);
    return 0;
}

/* A failed rollover's OSError, naming the directory (as the other calls). */
static void rollover_error(Spooled *self, int err)
{
    PyObject *dir = PyTuple_GET_ITEM(self->given, 2);
    PyObject *get = dir == Py_None ? package_attr("gettempdir", Py_None) : NULL;
    PyObject *found = get && get != Py_None ? PyObject_CallNoArgs(get) : NULL;
    Py_XDECREF(get);
    PyErr_Clear();
    ct_oserror(err, found ? found : dir != Py_None ? dir : NULL);
    Py_XDECREF(found);
}

static int do_rollover(Spooled *self)
{
    if (self->rolled || !self->buf)
        return 0;
    if (!self->buf->f) {
        ct_closed_error();
        return -1;
    }
    if (check_names(self) < 0)
        return -1;
    if (!self->binary) {
        PyObject *r = call_file(self, "flush", NULL, 0);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    if (tf_file_rollover(self->buf->f) < 0) {
        rollover_error(self, errno);
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

/* How max_size rolls writes over; the library's limit in *limit. */
static int size_rule(PyObject *max_size, size_t *limit, enum by_size *rule)
{
    *limit = SIZE_MAX;   /* the library itself never rolls over by size */
    if (PyLong_Check(max_size)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(max_size, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (overflow > 0 || (!overflow && v == 0))
            *rule = BY_NEVER;   /* no position passes 2**63 */
        else if (overflow < 0 || v < 0)
            *rule = BY_ANY_WRITE;
        else if ((unsigned long long)v >= SIZE_MAX)
            *rule = BY_NEVER;
        else
            *rule = BY_LIBRARY, *limit = (size_t)v;
        return 0;
    }
    int truth = PyObject_IsTrue(max_size);
    if (truth < 0)
        return -1;
    *rule = truth ? BY_COMPARE : BY_NEVER;
    return 0;
}

/*
 * The names for the library: dir, prefix and suffix if all are str or None;
 * else, as far as they convert (CPython's TemporaryFile() uses none but dir
 * where O_TMPFILE works), and *deferred says so, for check_names().
 */
static int spool_names(ct_names *n, PyObject *dir, PyObject *prefix, PyObject *suffix,
                       int *deferred)
{
    *deferred = 0;
    if ((dir == Py_None || PyUnicode_Check(dir)) && PyUnicode_Check(prefix) &&
        (suffix == Py_None || PyUnicode_Check(suffix)))
        return ct_names_parse(n, dir, prefix, suffix);
    *deferred = 1;
    if (ct_names_parse(n, dir, prefix, suffix) == 0)
        return 0;
    if (PyErr_ExceptionMatches(PyExc_OSError))   /* a '/' refused: at once */
        return -1;
    PyErr_Clear();
    if (ct_names_parse(n, dir, Py_None, Py_None) == 0)
        return 0;
    PyErr_Clear();
    return ct_names_parse(n, Py_None, Py_None, Py_None);
}

/* The memory file: the SpoolBuffer, in text mode inside a TextIOWrapper. */
static PyObject *memory_file(SpoolBuffer *buf, int binary, PyObject *encoding,
                             PyObject *errors, PyObject *newline)
{
    if (binary)
        return Py_NewRef(buf);
    PyObject *a = Py_BuildValue("(O)", (PyObject *)buf);
    PyObject *kw = a ? Py_BuildValue("{sOsOsO}", "encoding", encoding, "errors", errors,
                                     "newline", newline)
                     : NULL;
    PyObject *file = kw ? PyObject_Call(ct_io_TextIOWrapper, a, kw) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(kw);
    return file;
}

/* args: max_size, mode, buffering, encoding, newline, suffix, prefix, dir,
 * errors as given, then the prefix and dir to use (template and tempdir for
 * None). */
static PyObject *sp_setup_with(Spooled *self, PyObject *const *args)
{
    PyObject *max_size = args[0], *mode = args[1];
    int deferred;
    size_t limit;
    enum by_size rule;
    if (size_rule(max_size, &limit, &rule) < 0)
        return NULL;
    PyObject *b = PyUnicode_FromString("b");
    int binary = b ? PySequence_Contains(mode, b) : -1;
    Py_XDECREF(b);
    if (binary < 0)
        return NULL;
    ct_names n;
    PyObject *given = PyTuple_Pack(3, args[6], args[5], args[7]);
    if (!given || spool_names(&n, args[10], args[9], args[5], &deferred) < 0) {
        Py_XDECREF(given);
        return NULL;
    }
    tf_opts o;
    ct_names_opts(&n, &o);
    o.max_size = limit;
    tf_file *f = tf_spooled_temporary_file(&o);
    int err = errno;
    ct_names_clear(&n);
    SpoolBuffer *buf = f ? PyObject_New(SpoolBuffer, &ct_SpoolBuffer_Type) : NULL;
    if (buf)
        buf->f = f;
    else if (f)
        tf_file_release(f);
    PyObject *file = buf ? memory_file(buf, binary, args[3], args[8], args[4]) : NULL;
    Py_XDECREF(buf);
    if (!file) {
        Py_DECREF(given);
        return f ? NULL : ct_oserror(err, NULL);
    }
    self->file = file;
    self->buf = (SpoolBuffer *)Py_NewRef(buf);
    self->binary = binary;
    self->by_size = rule;
    self->given = given;
    self->check_names = deferred;
    self->max_size_obj = Py_NewRef(max_size);
    self->mode = Py_NewRef(mode);
    self->buffering = Py_NewRef(args[2]);
    self->encoding = Py_NewRef(args[3]);
    self->newline = Py_NewRef(args[4]);
    self->errors = Py_NewRef(args[8]);
    Py_RETURN_NONE;
}

/*
 * _setup(max_size, mode, buffering, encoding, newline, suffix, prefix, dir,
 * errors): SpooledTemporaryFile.__init__'s work, its encoding already
 * io.text_encoding()'s. prefix None means the package's template, dir None
 * its tempdir (then, if that is None too, the library's default directory,
 * found at rollover as gettempdir() finds it).
 */
static PyObject *sp_setup(Spooled *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 9) {
        PyErr_SetString(PyExc_TypeError, "_setup() takes 9 arguments");
        return NULL;
    }
    if (self->file) {
        PyErr_SetString(PyExc_RuntimeError, "already initialized");
        return NULL;
    }
    PyObject *a[11];
    memcpy(a, args, 9 * sizeof *a);
    PyObject *prefix = NULL, *dir = NULL;
    if (args[6] == Py_None) {
        PyObject *dflt = PyUnicode_FromString(tf_gettempprefix());
        prefix = dflt ? package_attr("template", dflt) : NULL;
        Py_XDECREF(dflt);
        if (!prefix)
            return NULL;
    }
    a[9] = prefix ? prefix : args[6];
    a[10] = args[7] == Py_None ? (dir = package_attr("tempdir", Py_None)) : args[7];
    PyObject *r = sp_setup_with(self, a);
    Py_XDECREF(prefix);
    Py_XDECREF(dir);
    return r;
}

/* CPython's _check() after a write, by max_size's rule. The library rolls
 * over by itself once the position passes a positive int; text mode flushes
 * first (tell()) so that it sees it. */
static int after_write(Spooled *self)
{
    if (!self->buf || self->by_size == BY_NEVER)
        return 0;
    if (self->by_size == BY_ANY_WRITE)
        return do_rollover(self);
    PyObject *pos = self->binary && self->by_size == BY_LIBRARY
                        ? Py_NewRef(Py_None)
                        : call_file(self, "tell", NULL, 0);
    if (!pos)
        return -1;
    int past = self->by_size == BY_COMPARE
                   ? PyObject_RichCompareBool(pos, self->max_size_obj, Py_GT)
                   : 0;
    Py_DECREF(pos);
    if (past < 0)
        return -1;
    return past ? do_rollover(self) : check_rolled(self);
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
        if (self->by_size != BY_NEVER && after_write(self) < 0)
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

/* CPython's _TemporaryFileArgs, until the rollover (which deletes it). A
 * property rather than an attribute: an instance whose dict is never made
 * keeps the interpreter's fastest method calls. */
static PyObject *sp_get_args(Spooled *self, void *c)
{
    (void)c;
    if (!self->file)
        return not_set_up();
    if (self->rolled) {
        PyErr_SetString(PyExc_AttributeError, "_TemporaryFileArgs");
        return NULL;
    }
    return Py_BuildValue("{sOsOsOsOsOsOsOsO}", "mode", self->mode, "buffering", self->buffering,
                         "suffix", PyTuple_GET_ITEM(self->given, 1), "prefix",
                         PyTuple_GET_ITEM(self->given, 0), "encoding", self->encoding,
                         "newline", self->newline, "dir", PyTuple_GET_ITEM(self->given, 2),
                         "errors", self->errors);
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
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->file);
    Py_VISIT(self->buf);
    Py_VISIT(self->mode);
    Py_VISIT(self->buffering);
    Py_VISIT(self->encoding);
    Py_VISIT(self->newline);
    Py_VISIT(self->errors);
    Py_VISIT(self->max_size_obj);
    Py_VISIT(self->given);
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
    Py_CLEAR(self->given);
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
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);   /* a heap type: its instances hold a reference */
}

static PyMethodDef sp_methods[] = {
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, NULL},
    {"_setup", CT_FASTCALL(sp_setup), NULL},
    {"write", CT_ONEARG(sp_write),
     "write($self, s, /)\n--\n\n"},
    {"writelines", CT_ONEARG(sp_writelines),
     "writelines($self, iterable, /)\n--\n\n"},
    {"truncate", CT_FASTCALL(sp_truncate),
     "truncate($self, size=None, /)\n--\n\n"},
    {"rollover", CT_NOARGS(sp_rollover),
     "rollover($self, /)\n--\n\n"},
    {"fileno", CT_NOARGS(sp_fileno),
     "fileno($self, /)\n--\n\n"},
    {"read", CT_FASTCALL(sp_read),
     "read($self, *args)\n--\n\n"},
    {"read1", CT_FASTCALL(sp_read1),
     "read1($self, *args)\n--\n\n"},
    {"readinto", CT_FASTCALL(sp_readinto),
     "readinto($self, b, /)\n--\n\n"},
    {"readinto1", CT_FASTCALL(sp_readinto1),
     "readinto1($self, b, /)\n--\n\n"},
    {"readline", CT_FASTCALL(sp_readline),
     "readline($self, *args)\n--\n\n"},
    {"readlines", CT_FASTCALL(sp_readlines),
     "readlines($self, *args)\n--\n\n"},
    {"seek", CT_FASTCALL(sp_seek),
     "seek($self, *args)\n--\n\n"},
    {"tell", CT_FASTCALL(sp_tell),
     "tell($self, /)\n--\n\n"},
    {"flush", CT_FASTCALL(sp_flush),
     "flush($self, /)\n--\n\n"},
    {"isatty", CT_FASTCALL(sp_isatty),
     "isatty($self, /)\n--\n\n"},
    {"readable", CT_FASTCALL(sp_readable),
     "readable($self, /)\n--\n\n"},
    {"writable", CT_FASTCALL(sp_writable),
     "writable($self, /)\n--\n\n"},
    {"seekable", CT_FASTCALL(sp_seekable),
     "seekable($self, /)\n--\n\n"},
    {"detach", CT_FASTCALL(sp_detach),
     "detach($self, /)\n--\n\n"},
    {"close", CT_FASTCALL(sp_close),
     "close($self, /)\n--\n\n"},
    {"__enter__", CT_NOARGS(sp_enter),
     "__enter__($self, /)\n--\n\n"},
    {"__exit__", CT_VARARGS(sp_exit),
     "__exit__($self, exc, value, tb, /)\n--\n\n"},
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
    {"_TemporaryFileArgs", (getter)sp_get_args, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/*
 * _own_methods(cls): gives cls, a subclass, _Spooled's methods as its own.
 * The interpreter's fastest call of a C method wants the instance's type to
 * be the method's own (CPython 3.13's CALL_METHOD_DESCRIPTOR_O): an inherited
 * one costs a third more per write().
 */
PyObject *ct_spooled_own_methods(PyObject *m, PyObject *cls)
{
    (void)m;
    if (!PyType_Check(cls) || !PyObject_TypeCheck(cls, &PyType_Type)) {
        PyErr_SetString(PyExc_TypeError, "_own_methods(cls): a class");
        return NULL;
    }
    for (PyMethodDef *def = sp_methods; def->ml_name; def++) {
        if (def->ml_flags & METH_CLASS)
            continue;
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)cls, def);
        int rc = descr ? PyObject_SetAttrString(cls, def->ml_name, descr) : -1;
        Py_XDECREF(descr);
        if (rc < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

static PyType_Slot sp_slots[] = {
    {Py_tp_dealloc, sp_dealloc},
    {Py_tp_doc, "libtempfile's SpooledTemporaryFile: memory (wiped before it is freed)\n"
                "until it grows past max_size or fileno() is called, then a\n"
                "TemporaryFile on disk. Binary or text by mode."},
    {Py_tp_traverse, sp_traverse},
    {Py_tp_clear, sp_clear},
    {Py_tp_iter, sp_iter},
    {Py_tp_iternext, sp_next},
    {Py_tp_methods, sp_methods},
    {Py_tp_getset, sp_getset},
    {Py_tp_new, sp_new},
    {Py_tp_finalize, sp_finalize},
    {0, NULL},
};

static PyType_Spec sp_spec = {
    .name = "ctempfile._ctempfile._Spooled",
    .basicsize = sizeof(Spooled),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = sp_slots,
};

/* _Spooled extends _io._IOBase (a heap type from CPython 3.12 on, so this is
 * one too), whose instance layout (the head, the dict, the weak references)
 * it repeats: checked here, as that layout is not public. The dict and weak
 * reference slots are inherited. */
PyObject *ct_spooled_type(void)
{
    PyObject *io = PyImport_ImportModule("_io");
    PyObject *base = io ? PyObject_GetAttrString(io, "_IOBase") : NULL;
    Py_XDECREF(io);
    if (!base)
        return NULL;
    PyTypeObject *t = (PyTypeObject *)base;
    PyObject *type = NULL;
    if (!PyType_Check(base) || t->tp_basicsize != (Py_ssize_t)offsetof(Spooled, file) ||
        t->tp_dictoffset != (Py_ssize_t)offsetof(Spooled, dict) ||
        t->tp_weaklistoffset != (Py_ssize_t)offsetof(Spooled, weakreflist))
        PyErr_SetString(PyExc_ImportError,
                        "ctempfile: _io._IOBase's layout is not the one it was built for");
    else
        type = PyType_FromSpecWithBases(&sp_spec, base);
    Py_DECREF(base);
    return type;
}
