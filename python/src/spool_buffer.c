/*
 * SpoolBuffer: a binary file object (BytesIO-like) over a libtempfile spooled
 * file (tf_spooled_temporary_file). The data stays in the library's memory,
 * which it wipes before freeing, and the library decides when to roll over
 * (CPython's rules); SpooledTemporaryFile (spooled.c) watches for that.
 */
#include "module.h"

#include <errno.h>
#include <string.h>

PyObject *ct_closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed file.");
    return NULL;
}

#define SB_CHECK(self)                 \
    do {                               \
        if (!(self)->f)                \
            return ct_closed_error();     \
    } while (0)

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
        return ct_errno_error();
    Py_ssize_t avail = len > pos ? (Py_ssize_t)(len - pos) : 0;
    if (size < 0 || size > avail)
        size = avail;
    PyObject *b = PyBytes_FromStringAndSize(NULL, size);
    if (!b)
        return NULL;
    Py_ssize_t got = sb_read_into(self, PyBytes_AS_STRING(b), size);
    if (got < 0) {
        Py_DECREF(b);
        return ct_errno_error();
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
        return ct_errno_error();
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
            return ct_errno_error();
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
                return ct_errno_error();
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
        return ct_errno_error();
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
        PyObject *r = self->f ? sb_write(self, item) : ct_closed_error();
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
        return ct_errno_error();
    off_t target = base + (off_t)off;
    if (target < 0)
        target = 0;
    off_t r = tf_file_seek(self->f, target, SEEK_SET);
    if (r < 0)
        return ct_errno_error();
    return PyLong_FromLongLong((long long)r);
}

static PyObject *sb_tell(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    off_t r = tf_file_tell(self->f);
    return r < 0 ? ct_errno_error() : PyLong_FromLongLong((long long)r);
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
            return ct_errno_error();
        size = (Py_ssize_t)pos;
    } else if (size < 0) {
        PyErr_Format(PyExc_ValueError, "negative size value %zd", size);
        return NULL;
    }
    off_t pos, len;
    if (sb_pos_len(self, &pos, &len) < 0)
        return ct_errno_error();
    /* BytesIO's truncate only shrinks (the library's would add zeros). */
    if ((off_t)size < len && tf_file_truncate(self->f, (off_t)size) < 0)
        return ct_errno_error();
    return PyLong_FromSsize_t(size);
}

static PyObject *sb_getvalue(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    SB_CHECK(self);
    off_t pos, len;
    if (sb_pos_len(self, &pos, &len) < 0 || tf_file_seek(self->f, 0, SEEK_SET) < 0)
        return ct_errno_error();
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)len);
    Py_ssize_t got = b ? sb_read_into(self, PyBytes_AS_STRING(b), (Py_ssize_t)len) : 0;
    int err = errno;
    tf_file_seek(self->f, pos, SEEK_SET);
    if (got < 0) {
        Py_XDECREF(b);
        errno = err;
        return ct_errno_error();
    }
    return b;
}

static PyObject *sb_close(SpoolBuffer *self, PyObject *unused)
{
    (void)unused;
    tf_file *f = self->f;
    self->f = NULL;
    if (f && tf_file_release(f) < 0)
        return ct_errno_error();
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

static PyMethodDef sb_methods[] = {
    {"read", CT_FASTCALL(sb_read), NULL},
    {"read1", CT_FASTCALL(sb_read), NULL},
    {"readinto", CT_ONEARG(sb_readinto), NULL},
    {"readinto1", CT_ONEARG(sb_readinto), NULL},
    {"readline", CT_FASTCALL(sb_readline), NULL},
    {"readlines", CT_FASTCALL(sb_readlines), NULL},
    {"write", CT_ONEARG(sb_write), NULL},
    {"writelines", CT_ONEARG(sb_writelines), NULL},
    {"seek", CT_FASTCALL(sb_seek), NULL},
    {"tell", CT_NOARGS(sb_tell), NULL},
    {"truncate", CT_FASTCALL(sb_truncate), NULL},
    {"getvalue", CT_NOARGS(sb_getvalue), NULL},
    {"close", CT_NOARGS(sb_close), NULL},
    {"flush", CT_NOARGS(sb_none), NULL},
    {"readable", CT_NOARGS(sb_true), NULL},
    {"writable", CT_NOARGS(sb_true), NULL},
    {"seekable", CT_NOARGS(sb_true), NULL},
    {"isatty", CT_NOARGS(sb_false), NULL},
    {"fileno", CT_NOARGS(sb_fileno), NULL},
    {"detach", CT_NOARGS(sb_detach), NULL},
    {"__enter__", CT_NOARGS(sb_enter), NULL},
    {"__exit__", CT_VARARGS(sb_exit), NULL},
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

