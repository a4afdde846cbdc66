/*
 * SpooledTemporaryFile's C side.
 *
 *  SpoolBuffer   a binary file object (BytesIO-like) over a libtempfile spooled
 *                file (tf_spooled_temporary_file): the data stays in the
 *                library's memory, which it wipes before freeing, and the
 *                library decides when to roll over (CPython's rules).
 *  _Spooled      the base of ctempfile.SpooledTemporaryFile. Its _file is the
 *                SpoolBuffer (binary mode) or a TextIOWrapper over it (text
 *                mode) while in memory; once the library has rolled the data to
 *                disk, _file becomes a real io object (io.open on a duplicate of
 *                the library's descriptor), as CPython's TemporaryFile() is.
 *                write() of bytes in memory goes straight to tf_file_write().
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* ---- SpoolBuffer ------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    tf_file *f;   /* NULL once closed or handed over to an io object */
} SpoolBuffer;

static PyObject *closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed file.");
    return NULL;
}

#define SB_CHECK(self)                 \
    do {                               \
        if (!(self)->f)                \
            return closed_error();     \
    } while (0)

static PyObject *errno_error(void)
{
    return PyErr_SetFromErrno(PyExc_OSError);
}

/* Position and size; 0 or -1 with errno. */
static int sb_pos_len(SpoolBuffer *self, off_t *pos, off_t *len)
{
    *pos = tf_file_tell(self->f);
    if (*pos < 0)
        return -1;
    *len = tf_file_seek(self->f, 0, SEEK_END);
    if (*len < 0 || tf_file_seek(self->f, *pos, SEEK_SET) < 0)
        return -1;
    return 0;
}

/* Reads up to n bytes into buf, looping over short reads; -1 with errno. */
static Py_ssize_t sb_read_into(SpoolBuffer *self, char *buf, Py_ssize_t n)
{
    Py_ssize_t done = 0;
    while (done < n) {
        ssize_t r = tf_file_read(self->f, buf + done, (size_t)(n - done));
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        done += r;
    }
    return done;
}

static int size_arg(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *size)
{
    *size = -1;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "expected at most 1 argument");
        return -1;
    }
    if (nargs == 1 && args[0] != Py_None) {
        *size = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
        if (*size == -1 && PyErr_Occurred())
            return -1;
    }
    return 0;
}

static PyObject *sb_read(SpoolBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    SB_CHECK(self);
    Py_ssize_t size;
    if (size_arg(args, nargs, &size) < 0)
        return NULL;
    off_t pos, len;
    if (sb_pos_len(self, &pos, &len) < 0)
        return errno_error();
    Py_ssize_t avail = len > pos ? (Py_ssize_t)(len - pos) : 0;
    if (size < 0 || size > avail)
        size = avail;
    PyObject *b = PyBytes_FromStringAndSize(NULL, size);
    if (!b)
        return NULL;
    Py_ssize_t got = sb_read_into(self, PyBytes_AS_STRING(b), size);
    if (got < 0) {
        Py_DECREF(b);
        return errno_error();
    }
    if (got != size)
        _PyBytes_Resize(&b, got);
    return b;
}

static PyObject *sb_readinto(SpoolBuffer *self, PyObject *arg)
{
    SB_CHECK(self);
    Py_buffer v;
    if (PyObject_GetBuffer(arg, &v, PyBUF_WRITABLE) < 0)
        return NULL;
    Py_ssize_t got = sb_read_into(self, v.buf, v.len);
    PyBuffer_Release(&v);
    if (got < 0)
        return errno_error();
    return PyLong_FromSsize_t(got);
}

/* One line (up to size bytes if size >= 0); b"" at the end. */
static PyObject *sb_readline_impl(SpoolBuffer *self, Py_ssize_t size)
{
    char chunk[256];
    char *acc = NULL;
    Py_ssize_t have = 0;
    for (;;) {
        Py_ssize_t want = (Py_ssize_t)sizeof chunk;
        if (size >= 0 && size - have < want)
            want = size - have;
        if (want == 0)
            break;
        ssize_t r = tf_file_read(self->f, chunk, (size_t)want);
        if (r < 0) {
            PyMem_Free(acc);
            return errno_error();
        }
        if (r == 0)
            break;
        char *nl = memchr(chunk, '\n', (size_t)r);
        Py_ssize_t take = nl ? (Py_ssize_t)(nl - chunk) + 1 : r;
        char *grown = PyMem_Realloc(acc, (size_t)(have + take) + 1);
        if (!grown) {
            PyMem_Free(acc);
            return PyErr_NoMemory();
        }
        acc = grown;
        memcpy(acc + have, chunk, (size_t)take);
        have += take;
        if (nl) {
            if (take < r && tf_file_seek(self->f, -(off_t)(r - take), SEEK_CUR) < 0) {
                PyMem_Free(acc);
                return errno_error();
            }
            break;
        }
    }
    PyObject *line = PyBytes_FromStringAndSize(acc ? acc : "", have);
    PyMem_Free(acc);
    return line;
}

static PyObject *sb_readline(SpoolBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    SB_CHECK(self);
    Py_ssize_t size;
    if (size_arg(args, nargs, &size) < 0)
        return NULL;
    return sb_readline_impl(self, size);
}

static PyObject *sb_readlines(SpoolBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    SB_CHECK(self);
    Py_ssize_t hint;
    if (size_arg(args, nargs, &hint) < 0)
        return NULL;
    PyObject *list = PyList_New(0);
    Py_ssize_t total = 0;
    while (list) {
        PyObject *line = sb_readline_impl(self, -1);
        if (!line) {
            Py_CLEAR(list);
            break;
        }
        Py_ssize_t n = PyBytes_GET_SIZE(line);
        if (n == 0) {
            Py_DECREF(line);
            break;
        }
        if (PyList_Append(list, line) < 0)
            Py_CLEAR(list);
        Py_DECREF(line);
        total += n;
        if (hint > 0 && total >= hint)
            break;
    }
    return list;
}

static PyObject *sb_write_buf(SpoolBuffer *self, const void *p, Py_ssize_t n)
{
    ssize_t w = tf_file_write(self->f, p, (size_t)n);
    if (w < 0)
        return errno_error();
    return PyLong_FromSsize_t(w);
}

static PyObject *sb_write(SpoolBuffer *self, PyObject *arg)
{
    SB_CHECK(self);
    if (PyBytes_CheckExact(arg))
        return sb_write_buf(self, PyBytes_AS_STRING(arg), PyBytes_GET_SIZE(arg));
    Py_buffer v;
    if (PyObject_GetBuffer(arg, &v, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *r = sb_write_buf(self, v.buf, v.len);
    PyBuffer_Release(&v);
    return r;
}

static PyObject *sb_writelines(SpoolBuffer *self, PyObject *lines)
{
    SB_CHECK(self);
    PyObject *it = PyObject_GetIter(lines);
    if (!it)
        return NULL;
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        PyObject *r = self->f ? sb_write(self, item) : closed_error();
        Py_DECREF(item);
        if (!r) {
            Py_DECREF(it);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return NULL;
    Py_RETURN_NONE;
}

/* BytesIO's seek: whence 0, 1 or 2; a negative result clamps to 0. */
static PyObject *sb_seek(SpoolBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    SB_CHECK(self);
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "seek() takes 1 or 2 arguments");
        return NULL;
    }
    Py_ssize_t off = PyNumber_AsSsize_t(args[0], PyExc_OverflowError);
    if (off == -1 && PyErr_Occurred())
        return NULL;
    long whence = 0;
    if (nargs == 2) {
        whence = PyLong_AsLong(args[1]);
        if (whence == -1 && PyErr_Occurred())
            return NULL;
    }
    if (whence < 0 || whence > 2) {
        PyErr_Format(PyExc_ValueError, "invalid whence (%ld, should be 0, 1 or 2)", whence);
        return NULL;
    }
    if (whence == 0 && off < 0) {
        PyErr_Format(PyExc_ValueError, "negative seek value %zd", off);
        return NULL;
    }
    off_t base = 0;
    if (whence == 1)
        base = tf_file_tell(self->f);
    else if (whence == 2)
        base = tf_file_seek(self->f, 0, SEEK_END);
    if (base < 0)
        return errno_error();
    off_t target = base + (off_t)off;
    if (target < 0)
        target = 0;
    off_t r = tf_file_seek(self->f, target, SEEK_SET);
    if (r < 0)
        return errno_error();
    return PyLong_FromLongLong((long long)r);
}

static PyObject *sb_tell(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    off_t r = tf_file_tell(self->f);
    return r < 0 ? errno_error() : PyLong_FromLongLong((long long)r);
}

static PyObject *sb_truncate(SpoolBuffer *self, PyObject *const *args, Py_ssize_t nargs)
{
    SB_CHECK(self);
    Py_ssize_t size;
    if (size_arg(args, nargs, &size) < 0)
        return NULL;
    if (nargs == 0 || args[0] == Py_None) {
        off_t pos = tf_file_tell(self->f);
        if (pos < 0)
            return errno_error();
        size = (Py_ssize_t)pos;
    } else if (size < 0) {
        PyErr_Format(PyExc_ValueError, "negative size value %zd", size);
        return NULL;
    }
    if (tf_file_truncate(self->f, (off_t)size) < 0)
        return errno_error();
    return PyLong_FromSsize_t(size);
}

static PyObject *sb_getvalue(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    off_t pos, len;
    if (sb_pos_len(self, &pos, &len) < 0 || tf_file_seek(self->f, 0, SEEK_SET) < 0)
        return errno_error();
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
    Py_ssize_t got = b ? sb_read_into(self, PyBytes_AS_STRING(b), (Py_ssize_t)len) : 0;
    int err = errno;
    tf_file_seek(self->f, pos, SEEK_SET);
    if (got < 0) {
        Py_XDECREF(b);
        errno = err;
        return errno_error();
    }
    return b;
}

static PyObject *sb_close(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    tf_file *f = self->f;
    self->f = NULL;
    if (f && tf_file_release(f) < 0)
        return errno_error();
    Py_RETURN_NONE;
}

static PyObject *sb_true(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    Py_RETURN_TRUE;
}

static PyObject *sb_false(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    Py_RETURN_FALSE;
}

static PyObject *sb_none(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    Py_RETURN_NONE;
}

static PyObject *sb_unsupported(SpoolBuffer *self, PyObject *name)
{
    (void)self;
    PyErr_SetObject(ct_io_UnsupportedOperation, name);
    return NULL;
}

static PyObject *sb_fileno(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    PyObject *n = PyUnicode_FromString("fileno");
    PyObject *r = n ? sb_unsupported(self, n) : NULL;
    Py_XDECREF(n);
    return r;
}

static PyObject *sb_detach(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    PyObject *n = PyUnicode_FromString("detach");
    PyObject *r = n ? sb_unsupported(self, n) : NULL;
    Py_XDECREF(n);
    return r;
}

static PyObject *sb_enter(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    return Py_NewRef(self);
}

static PyObject *sb_exit(SpoolBuffer *self, PyObject *args)
{
    (void)args;
    return sb_close(self, NULL);
}

static PyObject *sb_iter(SpoolBuffer *self)
{
    SB_CHECK(self);
    return Py_NewRef(self);
}

static PyObject *sb_next(SpoolBuffer *self)
{
    SB_CHECK(self);
    PyObject *line = sb_readline_impl(self, -1);
    if (line && PyBytes_GET_SIZE(line) == 0) {
        Py_DECREF(line);
        return NULL;
    }
    return line;
}

static PyObject *sb_get_closed(SpoolBuffer *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->f == NULL);
}

static void sb_dealloc(SpoolBuffer *self)
{
    if (self->f)
        tf_file_release(self->f);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

#define FAST(f) (PyCFunction)(void (*)(void))(f), METH_FASTCALL
#define NOARGS(f) (PyCFunction)(void (*)(void))(f), METH_NOARGS
#define ONEARG(f) (PyCFunction)(void (*)(void))(f), METH_O

static PyMethodDef sb_methods[] = {
    {"read", FAST(sb_read), NULL},
    {"read1", FAST(sb_read), NULL},
    {"readinto", ONEARG(sb_readinto), NULL},
    {"readinto1", ONEARG(sb_readinto), NULL},
    {"readline", FAST(sb_readline), NULL},
    {"readlines", FAST(sb_readlines), NULL},
    {"write", ONEARG(sb_write), NULL},
    {"writelines", ONEARG(sb_writelines), NULL},
    {"seek", FAST(sb_seek), NULL},
    {"tell", NOARGS(sb_tell), NULL},
    {"truncate", FAST(sb_truncate), NULL},
    {"getvalue", NOARGS(sb_getvalue), NULL},
    {"close", NOARGS(sb_close), NULL},
    {"flush", NOARGS(sb_none), NULL},
    {"readable", NOARGS(sb_true), NULL},
    {"writable", NOARGS(sb_true), NULL},
    {"seekable", NOARGS(sb_true), NULL},
    {"isatty", NOARGS(sb_false), NULL},
    {"fileno", NOARGS(sb_fileno), NULL},
    {"detach", NOARGS(sb_detach), NULL},
    {"__enter__", NOARGS(sb_enter), NULL},
    {"__exit__", (PyCFunction)(void (*)(void))sb_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sb_getset[] = {
    {"closed", (getter)sb_get_closed, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject ct_SpoolBuffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile._ctempfile.SpoolBuffer",
    .tp_basicsize = sizeof(SpoolBuffer),
    .tp_dealloc = (destructor)sb_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Binary file in libtempfile's memory (tf_spooled_temporary_file).",
    .tp_iter = (getiterfunc)sb_iter,
    .tp_iternext = (iternextfunc)sb_next,
    .tp_methods = sb_methods,
    .tp_getset = sb_getset,
};

/* ---- FdOpener: io.open's opener handing over a descriptor ------------------ */

/*
 * Called by io.open() once it is past argument checks: hands fd over, once;
 * io.open() then owns it (and closes it if it fails later). A descriptor
 * never asked for is closed with the opener.
 */
typedef struct {
    PyObject_HEAD
    int fd;
} FdOpener;

static PyObject *opener_call(FdOpener *self, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    int fd = self->fd;
    if (fd < 0) {
        PyErr_SetString(PyExc_RuntimeError, "descriptor already handed over");
        return NULL;
    }
    self->fd = -1;
    return PyLong_FromLong(fd);
}

static void opener_dealloc(FdOpener *self)
{
    if (self->fd >= 0)
        close(self->fd);
    PyObject_Del(self);
}

PyObject *ct_fd_giver(int fd)
{
    FdOpener *o = PyObject_New(FdOpener, &ct_FdOpener_Type);
    if (!o) {
        close(fd);
        return NULL;
    }
    o->fd = fd;
    return (PyObject *)o;
}

PyTypeObject ct_FdOpener_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ctempfile._ctempfile.FdOpener",
    .tp_basicsize = sizeof(FdOpener),
    .tp_dealloc = (destructor)opener_dealloc,
    .tp_call = (ternaryfunc)opener_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
};

/* ---- _Spooled ---------------------------------------------------------------- */

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

/* The ctempfile package, for its `template` and `tempdir` (see _bind). */
PyObject *ct_package;

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
        errno_error();
        return -1;
    }
    /* A duplicate of its own, which the library's release leaves open. */
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        errno_error();
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
        closed_error();
        return -1;
    }
    if (!self->binary) {
        PyObject *r = call_file(self, "flush", NULL, 0);
        if (!r)
            return -1;
        Py_DECREF(r);
    }
    if (tf_file_rollover(self->buf->f) < 0) {
        errno_error();
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
            return errno_error();
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
    {"write", ONEARG(sp_write), NULL},
    {"writelines", ONEARG(sp_writelines), NULL},
    {"truncate", FAST(sp_truncate), NULL},
    {"rollover", NOARGS(sp_rollover), NULL},
    {"fileno", NOARGS(sp_fileno), NULL},
    {"read", FAST(sp_read), NULL},
    {"read1", FAST(sp_read1), NULL},
    {"readinto", FAST(sp_readinto), NULL},
    {"readinto1", FAST(sp_readinto1), NULL},
    {"readline", FAST(sp_readline), NULL},
    {"readlines", FAST(sp_readlines), NULL},
    {"seek", FAST(sp_seek), NULL},
    {"tell", FAST(sp_tell), NULL},
    {"flush", FAST(sp_flush), NULL},
    {"isatty", FAST(sp_isatty), NULL},
    {"readable", FAST(sp_readable), NULL},
    {"writable", FAST(sp_writable), NULL},
    {"seekable", FAST(sp_seekable), NULL},
    {"detach", FAST(sp_detach), NULL},
    {"close", FAST(sp_close), NULL},
    {"__enter__", NOARGS(sp_enter), NULL},
    {"__exit__", (PyCFunction)(void (*)(void))sp_exit, METH_VARARGS, NULL},
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

/* _bind(package): lets SpooledTemporaryFile() read ctempfile.template/tempdir. */
PyObject *ct_bind(PyObject *m, PyObject *package)
{
    (void)m;
    Py_XSETREF(ct_package, Py_NewRef(package));
    Py_RETURN_NONE;
}

int ct_spooled_init(PyObject *module)
{
    PyTypeObject *types[] = { &ct_SpoolBuffer_Type, &ct_FdOpener_Type, &ct_Spooled_Type };
    const char *names[] = { "SpoolBuffer", "FdOpener", "SpooledTemporaryFile" };
    for (size_t i = 0; i < 3; i++) {
        if (PyType_Ready(types[i]) < 0)
            return -1;
        Py_INCREF(types[i]);
        if (PyModule_AddObject(module, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    return 0;
}
