/*
 * The io object around a descriptor ctempfile has just created: what
 * io.open(fd, mode, ...) returns, built without what io.open() must do for an
 * arbitrary file. The descriptor names a new regular file, so it is never a
 * terminal (no isatty() probe, and so never line buffered) and is already
 * close-on-exec (no FIOCLEX, which io.open() adds when it calls an opener).
 * The objects are io.open()'s own: FileIO, then BufferedRandom, -Writer or
 * -Reader, then for text a TextIOWrapper with .mode set.
 *
 * Whatever io.open() would refuse or treat specially (another mode, line
 * buffering, text arguments in binary mode) goes to io.open() itself, so that
 * its errors and warnings are its own; so does every call while a program (or
 * a test) has replaced io.open. io.open() is handed the descriptor by an
 * opener (FdOpener) that gives it once.
 */
#include "module.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

enum buffered { RANDOM, WRITER, READER };

/* The modes built directly, with FileIO's mode and the buffered class. */
static const struct {
    const char *mode, *raw;
    enum buffered kind;
    int binary;
} plain[] = {
    { "w+b", "w+", RANDOM, 1 }, { "wb+", "w+", RANDOM, 1 }, { "r+b", "r+", RANDOM, 1 },
    { "rb+", "r+", RANDOM, 1 }, { "wb", "w", WRITER, 1 },   { "w+", "w+", RANDOM, 0 },
    { "w+t", "w+", RANDOM, 0 }, { "wt+", "w+", RANDOM, 0 }, { "r+", "r+", RANDOM, 0 },
    { "r+t", "r+", RANDOM, 0 }, { "rt+", "r+", RANDOM, 0 }, { "w", "w", WRITER, 0 },
    { "wt", "w", WRITER, 0 },
};

#define NPLAIN (sizeof plain / sizeof *plain)

static PyObject *io_module, *io_open, *file_io, *buffered[3];
static PyObject *str_open, *str_blksize, *str_mode, *str_buffer, *str_raw, *str_name;
static PyObject *raw_modes[NPLAIN];
static PyObject *open_kwnames;

int ct_fdopen_init(PyObject *io)
{
    static const char *const classes[] = { "BufferedRandom", "BufferedWriter", "BufferedReader" };
    io_module = io;
    if (!(io_open = PyObject_GetAttrString(io, "open")) ||
        !(file_io = PyObject_GetAttrString(io, "FileIO")))
        return -1;
    for (int i = 0; i < 3; i++)
        if (!(buffered[i] = PyObject_GetAttrString(io, classes[i])))
            return -1;
    for (size_t i = 0; i < NPLAIN; i++)
        if (!(raw_modes[i] = PyUnicode_InternFromString(plain[i].raw)))
            return -1;
    /* The keywords CPython's tempfile passes to io.open(), in its order. */
    open_kwnames = Py_BuildValue("(sssss)", "buffering", "newline", "encoding", "errors",
                                 "opener");
    return open_kwnames && (str_open = PyUnicode_InternFromString("open")) &&
                   (str_blksize = PyUnicode_InternFromString("_blksize")) &&
                   (str_mode = PyUnicode_InternFromString("mode")) &&
                   (str_buffer = PyUnicode_InternFromString("buffer")) &&
                   (str_raw = PyUnicode_InternFromString("raw")) &&
                   (str_name = PyUnicode_InternFromString("name"))
               ? 0
               : -1;
}

void ct_close_keeping_error(PyObject *obj)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *r = PyObject_CallMethod(obj, "close", NULL);
    Py_XDECREF(r);
    PyErr_Restore(type, value, tb);
}

static bool exact_str_or_none(PyObject *o)
{
    return o == Py_None || PyUnicode_CheckExact(o);
}

/* The index in plain[] of this call's arguments, or -1: io.open() decides
 * (and raises in its own words, for an embedded NUL, a buffering out of an
 * int's range, an argument of the wrong type). */
static int plain_index(PyObject *mode, PyObject *buffering, PyObject *encoding,
                       PyObject *errors, PyObject *newline, long *bufsize)
{
    if (!PyUnicode_CheckExact(mode) || !PyLong_CheckExact(buffering) ||
        !exact_str_or_none(encoding) || !exact_str_or_none(errors) || !exact_str_or_none(newline))
        return -1;
    int overflow;
    *bufsize = PyLong_AsLongAndOverflow(buffering, &overflow);
    if (overflow || *bufsize < INT_MIN || *bufsize > INT_MAX || *bufsize == 1)
        return -1;
    Py_ssize_t len;
    const char *m = PyUnicode_AsUTF8AndSize(mode, &len);
    if (!m) {
        PyErr_Clear();
        return -1;
    }
    for (size_t i = 0; i < NPLAIN; i++) {
        if ((size_t)len != strlen(plain[i].mode) || strcmp(m, plain[i].mode) != 0)
            continue;
        if (plain[i].binary ? encoding != Py_None || errors != Py_None || newline != Py_None
                            : *bufsize == 0)
            return -1;
        return (int)i;
    }
    return -1;
}

/* io.open()'s objects, built directly for plain[i]. */
static PyObject *build(int fd, int i, long bufsize, PyObject *mode, PyObject *encoding,
                       PyObject *errors, PyObject *newline, PyObject **raw_out)
{
    PyObject *fdobj = PyLong_FromLong(fd);
    PyObject *fargs[] = { fdobj, raw_modes[i] };
    PyObject *raw = fdobj ? PyObject_Vectorcall(file_io, fargs, 2, NULL) : NULL;
    Py_XDECREF(fdobj);
    if (!raw) {
        close(fd);   /* FileIO() leaves a descriptor it refused to the caller */
        return NULL;
    }
    if (bufsize == 0) {   /* binary only (plain_index) */
        *raw_out = raw;
        return Py_NewRef(raw);
    }
    if (bufsize < 0) {
        PyObject *bs = PyObject_GetAttr(raw, str_blksize);
        bufsize = bs ? PyLong_AsLong(bs) : -1;
        Py_XDECREF(bs);
        if (bufsize < 0 && PyErr_Occurred()) {
            ct_close_keeping_error(raw);
            Py_DECREF(raw);
            return NULL;
        }
    }
    PyObject *size = PyLong_FromLong(bufsize);
    PyObject *bargs[] = { raw, size };
    PyObject *buffer = size ? PyObject_Vectorcall(buffered[plain[i].kind], bargs, 2, NULL) : NULL;
    Py_XDECREF(size);
    if (!buffer || plain[i].binary) {
        if (!buffer)
            ct_close_keeping_error(raw);
        *raw_out = buffer ? raw : (Py_DECREF(raw), NULL);
        return buffer;
    }
    PyObject *targs[] = { buffer, encoding, errors, newline };
    PyObject *text = PyObject_Vectorcall(ct_io_TextIOWrapper, targs, 4, NULL);
    if (!text || PyObject_SetAttr(text, str_mode, mode) < 0) {
        ct_close_keeping_error(text ? text : buffer);
        Py_XDECREF(text);
        Py_DECREF(buffer);
        Py_DECREF(raw);
        return NULL;
    }
    Py_DECREF(buffer);
    *raw_out = raw;
    return text;
}

/* The innermost object of an io.open() result, as CPython's _raw_of. */
static PyObject *raw_of(PyObject *file)
{
    PyObject *obj = Py_NewRef(file);
    PyObject *const names[] = { str_buffer, str_raw };
    for (int k = 0; k < 2; k++) {
        PyObject *inner = PyObject_GetAttr(obj, names[k]);
        if (inner) {
            Py_SETREF(obj, inner);
        } else if (PyErr_ExceptionMatches(PyExc_AttributeError)) {
            PyErr_Clear();
        } else {
            Py_DECREF(obj);
            return NULL;
        }
    }
    return obj;
}

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

/* io.open() itself, replaced or not, called as CPython's tempfile calls it.
 * It takes the descriptor over only once it calls the opener; what it refuses
 * before that is closed when the opener dies. */
static PyObject *call_io_open(PyObject *open, int fd, PyObject *file_arg, PyObject *mode,
                              PyObject *buffering, PyObject *encoding, PyObject *errors,
                              PyObject *newline, PyObject **raw)
{
    PyObject *opener = ct_fd_giver(fd);
    if (!opener)
        return NULL;
    PyObject *args[] = { file_arg, mode, buffering, newline, encoding, errors, opener };
    PyObject *file = PyObject_Vectorcall(open, args, 2, open_kwnames);
    Py_DECREF(opener);
    if (file && !(*raw = raw_of(file))) {
        ct_close_keeping_error(file);
        Py_CLEAR(file);
    }
    return file;
}

PyObject *ct_fdopen(int fd, PyObject *file_arg, PyObject *mode, PyObject *buffering,
                    PyObject *encoding, PyObject *errors, PyObject *newline, PyObject *name)
{
    PyObject *current = PyObject_GetAttr(io_module, str_open);
    if (!current) {
        close(fd);
        return NULL;
    }
    long bufsize = -1;
    int i = current == io_open ? plain_index(mode, buffering, encoding, errors, newline, &bufsize)
                               : -1;
    PyObject *raw = NULL;
    PyObject *file = i >= 0 ? build(fd, i, bufsize, mode, encoding, errors, newline, &raw)
                            : call_io_open(current, fd, file_arg, mode, buffering, encoding,
                                           errors, newline, &raw);
    Py_DECREF(current);
    /* raw.name as CPython's tempfile sets it; a FileIO built on the
     * descriptor is named by it already. */
    if (file && (name || i < 0)) {
        PyObject *v = name ? Py_NewRef(name) : PyLong_FromLong(fd);
        if (!v || PyObject_SetAttr(raw, str_name, v) < 0) {
            ct_close_keeping_error(file);
            Py_CLEAR(file);
        }
        Py_XDECREF(v);
    }
    Py_XDECREF(raw);
    return file;
}
