/*
 * SpooledTemporaryFile's C type (_Spooled), the base of
 * ctempfile.SpooledTemporaryFile, which adds io.IOBase (as CPython's class
 * is one). _Spooled extends io's C base _io._IOBase, whose two fields (the
 * instance dict and weak references) it starts with.
 *
 * In memory, its data is where CPython's is, an io.BytesIO (binary mode)
 * or a TextIOWrapper over one (text mode), with one exception kept for
 * speed and safety: a binary file's data stays in libtempfile's memory (a
 * SpoolBuffer, spool_buffer.c; wiped before it is freed) while only write(),
 * read(), seek(), tell() and close() with plain arguments touch it, and
 * moves into a real io.BytesIO the moment a program reads _file or calls
 * anything else (so every other call, and its errors, is BytesIO's own).
 * write() of bytes in memory goes straight to tf_file_write().
 * The rollover is CPython's: the package's TemporaryFile(**_TemporaryFileArgs)
 * (its errors, names, audit events and descriptor), the data copied into it.
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
    SpoolBuffer *buf;        /* the library's memory file (== file), or NULL */
    PyObject *mode;
    PyObject *buffering;
    PyObject *encoding;
    PyObject *newline;
    PyObject *errors;
    PyObject *max_size_obj;
    PyObject *given;         /* (prefix, suffix, dir) as given */
    size_t limit;            /* max_size, for BY_LIBRARY */
    off_t pos;               /* the library memory's position, kept by the
                                calls that move it (a write: by its size) */
    enum by_size by_size;
    int args_gone;           /* _TemporaryFileArgs deleted: at the rollover */
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
    /* The names, interned once: name is always a string literal. */
    static const char *seen[48];
    static PyObject *interned[48];
    PyObject *meth = NULL, *owned = NULL;
    size_t i = 0;
    for (; i < 48 && seen[i] && !meth; i++)
        if (seen[i] == name)
            meth = interned[i];
    if (!meth) {
        if (!(meth = PyUnicode_InternFromString(name)))
            return NULL;
        if (i < 48) {
            seen[i] = name;
            interned[i] = meth;   /* kept for the life of the process */
        } else {
            owned = meth;
        }
    }
    stack[0] = self->file;
    for (Py_ssize_t k = 0; k < nargs; k++)
        stack[k + 1] = args[k];
    PyObject *r = PyObject_VectorcallMethod(meth, stack, (size_t)(nargs + 1), NULL);
    Py_XDECREF(owned);
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

/* io.BytesIO(value) (value NULL: empty), at position pos. */
static PyObject *new_bytesio(PyObject *value, long long pos)
{
    PyObject *bio = value ? PyObject_CallMethod(ct_io_module, "BytesIO", "(O)", value)
                          : PyObject_CallMethod(ct_io_module, "BytesIO", NULL);
    PyObject *r = bio && pos ? PyObject_CallMethod(bio, "seek", "(L)", pos) : Py_NewRef(Py_None);
    if (!r)
        Py_CLEAR(bio);
    Py_XDECREF(r);
    return bio;
}

/*
 * The library's memory file becomes a real io.BytesIO (its bytes and
 * position; closed if it was), the library's memory wiped and freed; if the
 * library had rolled it to disk by itself (a write far past the end), the
 * io object on that file.
 */
static int to_bytesio(Spooled *self)
{
    SpoolBuffer *buf = self->buf;
    if (!buf)
        return 0;
    if (buf->f && tf_file_rolled(buf->f) == 1)
        return switch_to_disk(self);
    PyObject *bio;
    if (buf->f) {
        off_t pos = tf_file_tell(buf->f);
        PyObject *value = pos < 0 ? ct_errno_error() : PyObject_CallMethod((PyObject *)buf, "getvalue", NULL);
        bio = value ? new_bytesio(value, (long long)pos) : NULL;
        Py_XDECREF(value);
    } else {
        bio = new_bytesio(NULL, 0);
        PyObject *r = bio ? PyObject_CallMethod(bio, "close", NULL) : NULL;
        if (!r)
            Py_CLEAR(bio);
        Py_XDECREF(r);
    }
    if (!bio)
        return -1;
    tf_file *f = buf->f;
    buf->f = NULL;
    if (f)
        tf_file_release(f);   /* a memory file: wiped, nothing on disk to fail */
    Py_SETREF(self->file, bio);
    self->buf = NULL;
    Py_DECREF(buf);
    return 0;
}

/* Writes the library memory file's bytes to fd, through a buffer wiped
 * after; 0 or -1 with errno. */
static int copy_to_fd(tf_file *f, int fd)
{
    char chunk[1 << 16];
    int rc = tf_file_seek(f, 0, SEEK_SET) < 0 ? -1 : 0;
    while (rc == 0) {
        ssize_t r = tf_file_read(f, chunk, sizeof chunk);
        if (r <= 0) {
            rc = (int)r;
            break;
        }
        for (ssize_t off = 0; rc == 0 && off < r;) {
            ssize_t w = write(fd, chunk + off, (size_t)(r - off));
            if (w > 0)
                off += w;
            else if (w == 0 || errno != EINTR)
                rc = -1;
        }
    }
    int err = errno;
    explicit_bzero(chunk, sizeof chunk);
    errno = err;
    return rc;
}

/* CPython's rollover from the library's memory: the data and position into
 * newfile, all or nothing (on failure the memory file is as it was). */
static int roll_library(Spooled *self, PyObject *newfile)
{
    tf_file *f = self->buf->f;
    /* The data goes to the descriptor, but whether the io object takes
     * writes is its to say, as CPython's newfile.write() does (mode 'rb'
     * refuses even no data). */
    PyObject *w = PyObject_CallMethod(newfile, "write", "(y#)", "", (Py_ssize_t)0);
    if (!w)
        return -1;
    Py_DECREF(w);
    off_t pos = tf_file_tell(f);
    PyObject *fdobj = pos < 0 ? NULL : PyObject_CallMethod(newfile, "fileno", NULL);
    int fd = fdobj ? PyLong_AsLong(fdobj) : -1;
    Py_XDECREF(fdobj);
    if (pos < 0 && !PyErr_Occurred())
        ct_errno_error();
    if (fd >= 0 && copy_to_fd(f, fd) < 0) {
        ct_errno_error();
        fd = -1;
    }
    PyObject *r = fd < 0 ? NULL : PyObject_CallMethod(newfile, "seek", "(Li)", (long long)pos, 0);
    if (!r) {
        if (pos >= 0)
            tf_file_seek(f, pos, SEEK_SET);
        return -1;
    }
    Py_DECREF(r);
    SpoolBuffer *buf = self->buf;
    buf->f = NULL;
    tf_file_release(f);
    self->buf = NULL;
    Py_DECREF(buf);
    return 0;
}

/* CPython's rollover from a BytesIO (or a TextIOWrapper over one), in its
 * order: _file is the new file before the data is copied. */
static int roll_python(Spooled *self, PyObject *newfile)
{
    PyObject *file = self->file;
    self->file = Py_NewRef(newfile);
    self->args_gone = 1;   /* as CPython deletes _TemporaryFileArgs here */
    PyObject *pos = PyObject_CallMethod(file, "tell", NULL);
    PyObject *value = NULL, *r = NULL;
    int text = pos ? PyObject_HasAttrString(newfile, "buffer") : 0;
    if (pos && text) {
        PyObject *raw = PyObject_CallMethod(file, "detach", NULL);
        value = raw ? PyObject_CallMethod(raw, "getvalue", NULL) : NULL;
        Py_XDECREF(raw);
        PyObject *out = value ? PyObject_GetAttrString(newfile, "buffer") : NULL;
        r = out ? PyObject_CallMethod(out, "write", "(O)", value) : NULL;
        Py_XDECREF(out);
    } else if (pos) {
        value = PyObject_CallMethod(file, "getvalue", NULL);
        r = value ? PyObject_CallMethod(newfile, "write", "(O)", value) : NULL;
    }
    Py_XDECREF(value);
    Py_XSETREF(r, r ? PyObject_CallMethod(newfile, "seek", "(Oi)", pos, 0) : NULL);
    Py_XDECREF(pos);
    Py_DECREF(file);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static PyObject *sp_get_args(Spooled *self, void *c);

static int do_rollover(Spooled *self)
{
    if (self->rolled)
        return 0;
    if (self->buf && self->buf->f && tf_file_rolled(self->buf->f) == 1)
        return switch_to_disk(self);
    if (self->buf && !self->buf->f && to_bytesio(self) < 0)
        return -1;   /* closed: it fails as CPython's, on a closed BytesIO */
    PyObject *args = sp_get_args(self, NULL);
    PyObject *make = args ? package_attr("TemporaryFile", Py_None) : NULL;
    PyObject *empty = make ? PyTuple_New(0) : NULL;
    PyObject *newfile = empty ? PyObject_Call(make, empty, args) : NULL;
    Py_XDECREF(empty);
    Py_XDECREF(make);
    Py_XDECREF(args);
    if (!newfile)
        return -1;
    int from_library = self->buf != NULL;
    int rc = from_library ? roll_library(self, newfile) : roll_python(self, newfile);
    if (rc == 0 && from_library)
        Py_SETREF(self->file, Py_NewRef(newfile));
    else if (rc < 0 && from_library)
        ct_close_keeping_error(newfile);
    if (rc == 0)
        self->rolled = 1;
    Py_DECREF(newfile);
    return rc;
}

/* The package's class, and its own rollover and _check as its attributes
 * read (set by _own_methods): a subclass that overrides one has it called
 * where CPython's write(), writelines(), truncate() and fileno() call them by
 * name; the class itself pays one pointer compare. */
static PyObject *spool_class, *own_rollover, *own_check;

/* Whether self's class overrides the package class's attribute `name`
 * (whose own value is own): 1, 0, or -1 with an error. */
static int overrides(Spooled *self, const char *name, PyObject *own)
{
    if ((PyObject *)Py_TYPE(self) == spool_class)
        return 0;
    PyObject *v = PyObject_GetAttrString((PyObject *)Py_TYPE(self), name);
    if (!v)
        return -1;
    Py_DECREF(v);
    return v != own;
}

/* self.rollover(), a subclass's own if it has one. */
static int rollover_of(Spooled *self)
{
    int o = overrides(self, "rollover", own_rollover);
    if (o <= 0)
        return o < 0 ? -1 : do_rollover(self);
    PyObject *r = PyObject_CallMethod((PyObject *)self, "rollover", NULL);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* How max_size rolls writes over; for BY_LIBRARY, the limit in *limit. */
static int size_rule(PyObject *max_size, size_t *limit, enum by_size *rule)
{
    *limit = SIZE_MAX;
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

/* A '/' in prefix or suffix is refused at creation (the README's list);
 * anything else about them is TemporaryFile()'s to refuse at rollover. */
static int refuse_slash(PyObject *prefix, PyObject *suffix)
{
    ct_names n;
    if (ct_names_parse(&n, Py_None, prefix, suffix) == 0) {
        ct_names_clear(&n);
        return 0;
    }
    if (PyErr_ExceptionMatches(PyExc_OSError))
        return -1;
    PyErr_Clear();
    return 0;
}

/*
 * The library's memory file for a binary spool, in dir (str, bytes or
 * path-like; anything else: the default directory). Only the library's own
 * rollover (a write far past the end) uses it; the names are
 * TemporaryFile()'s at rollover.
 */
static SpoolBuffer *library_memory(PyObject *dir)
{
    ct_names n;
    if (ct_names_parse(&n, dir, Py_None, Py_None) < 0) {
        PyErr_Clear();
        ct_names_parse(&n, Py_None, Py_None, Py_None);
    }
    tf_opts o;
    ct_names_opts(&n, &o);
    tf_file *f = tf_spooled_temporary_file(&o);
    int err = errno;
    ct_names_clear(&n);
    if (!f)
        return (SpoolBuffer *)ct_oserror(err, NULL);
    SpoolBuffer *buf = PyObject_New(SpoolBuffer, &ct_SpoolBuffer_Type);
    if (buf)
        buf->f = f;
    else
        tf_file_release(f);
    return buf;
}

/* CPython's memory file in text mode: TextIOWrapper(BytesIO(), ...). */
static PyObject *text_memory(PyObject *encoding, PyObject *errors, PyObject *newline)
{
    PyObject *bio = new_bytesio(NULL, 0);
    PyObject *a = bio ? PyTuple_Pack(1, bio) : NULL;
    Py_XDECREF(bio);
    PyObject *kw = a ? Py_BuildValue("{sOsOsO}", "encoding", encoding, "errors", errors,
                                     "newline", newline)
                     : NULL;
    PyObject *file = kw ? PyObject_Call(ct_io_TextIOWrapper, a, kw) : NULL;
    Py_XDECREF(a);
    Py_XDECREF(kw);
    return file;
}

/* Whether "b" is in mode: 1, 0, or -1 with an error. */
static int is_binary(PyObject *mode)
{
    PyObject *b = PyUnicode_FromString("b");
    int binary = b ? PySequence_Contains(mode, b) : -1;
    Py_XDECREF(b);
    return binary;
}

/* The state every method reads: steals file and buf, borrows the rest. */
static int set_state(Spooled *self, PyObject *file, SpoolBuffer *buf, PyObject *max_size,
                     PyObject *mode, PyObject *buffering, PyObject *encoding,
                     PyObject *newline, PyObject *errors, PyObject *given)
{
    enum by_size rule;
    int binary = is_binary(mode);
    if (binary < 0 || size_rule(max_size, &self->limit, &rule) < 0) {
        Py_DECREF(file);
        Py_XDECREF(buf);
        return -1;
    }
    self->file = file;
    self->buf = buf;
    self->binary = binary;
    self->by_size = rule;
    self->given = Py_NewRef(given);
    self->max_size_obj = Py_NewRef(max_size);
    self->mode = Py_NewRef(mode);
    self->buffering = Py_NewRef(buffering);
    self->encoding = Py_NewRef(encoding);
    self->newline = Py_NewRef(newline);
    self->errors = Py_NewRef(errors);
    return 0;
}

/* args: max_size, mode, buffering, encoding, newline, suffix, prefix, dir,
 * errors as given, then the dir to use (tempdir for None). */
static PyObject *sp_setup_with(Spooled *self, PyObject *const *args)
{
    int binary = is_binary(args[1]);
    if (binary < 0 || refuse_slash(args[6], args[5]) < 0)
        return NULL;
    SpoolBuffer *buf = NULL;
    PyObject *file = binary ? (PyObject *)(buf = library_memory(args[9]))
                            : text_memory(args[3], args[8], args[4]);
    PyObject *given = file ? PyTuple_Pack(3, args[6], args[5], args[7]) : NULL;
    if (!given) {
        Py_XDECREF(file);
        return NULL;
    }
    int rc = set_state(self, file, (SpoolBuffer *)Py_XNewRef(buf), args[0], args[1], args[2],
                       args[3], args[4], args[8], given);
    Py_DECREF(given);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

/*
 * _restore(state): an unpickled or copied instance's state, as CPython's
 * __dict__ holds it (_file, _max_size, _rolled, _TemporaryFileArgs until
 * the rollover).
 */
static PyObject *sp_restore(Spooled *self, PyObject *state)
{
    if (self->file) {
        PyErr_SetString(PyExc_RuntimeError, "already initialized");
        return NULL;
    }
    PyObject *file = PyDict_GetItemString(state, "_file");
    PyObject *max_size = PyDict_GetItemString(state, "_max_size");
    PyObject *rolled = PyDict_GetItemString(state, "_rolled");
    PyObject *args = PyDict_GetItemString(state, "_TemporaryFileArgs");
    int is_rolled = rolled ? PyObject_IsTrue(rolled) : -1;
    if (!file || !max_size || is_rolled < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "not a SpooledTemporaryFile's state");
        return NULL;
    }
    PyObject *v[8];
    static const char *const keys[8] = { "mode", "buffering", "encoding", "newline",
                                         "errors", "prefix", "suffix", "dir" };
    for (int i = 0; i < 8; i++) {
        v[i] = args ? PyDict_GetItemString(args, keys[i]) : NULL;
        if (!v[i])
            v[i] = Py_None;
    }
    PyObject *mode = args ? Py_NewRef(v[0]) : PyObject_GetAttrString(file, "mode");
    if (!mode) {   /* only the rollover, which is over, reads it */
        PyErr_Clear();
        mode = PyUnicode_FromString("w+b");
    }
    PyObject *given = mode ? PyTuple_Pack(3, v[5], v[6], v[7]) : NULL;
    int rc = given ? set_state(self, Py_NewRef(file), NULL, max_size, mode, v[1], v[2], v[3],
                               v[4], given)
                   : -1;
    Py_XDECREF(given);
    Py_XDECREF(mode);
    if (rc < 0)
        return NULL;
    self->rolled = is_rolled;
    self->args_gone = args == NULL;
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
    PyObject *a[10], *dir = NULL;
    memcpy(a, args, 9 * sizeof *a);
    a[9] = args[7] == Py_None ? (dir = package_attr("tempdir", Py_None)) : args[7];
    PyObject *r = sp_setup_with(self, a);
    Py_XDECREF(dir);
    return r;
}

/* CPython's _check() after a write (`if max_size and file.tell() >
 * max_size: rollover`), by max_size's rule; the position of the library's
 * memory file is read without a call. */
static int after_write(Spooled *self)
{
    int o = overrides(self, "_check", own_check);
    if (o) {   /* a subclass's own: called after every write, as CPython's */
        PyObject *file = o < 0 ? NULL : PyObject_GetAttrString((PyObject *)self, "_file");
        PyObject *r = file ? PyObject_CallMethod((PyObject *)self, "_check", "(O)", file) : NULL;
        Py_XDECREF(file);
        Py_XDECREF(r);
        return r ? 0 : -1;
    }
    if (self->rolled || self->by_size == BY_NEVER)
        return 0;
    if (self->by_size == BY_ANY_WRITE)
        return rollover_of(self);
    int past;
    if (self->buf && self->buf->f && self->by_size == BY_LIBRARY) {
        past = (unsigned long long)self->pos > self->limit;
    } else if (self->buf && self->buf->f) {
        PyObject *p = PyLong_FromLongLong((long long)self->pos);
        past = p ? PyObject_RichCompareBool(p, self->max_size_obj, Py_GT) : -1;
        Py_XDECREF(p);
    } else {
        PyObject *pos = call_file(self, "tell", NULL, 0);
        past = pos ? PyObject_RichCompareBool(pos, self->max_size_obj, Py_GT) : -1;
        Py_XDECREF(pos);
    }
    if (past < 0)
        return -1;
    return past ? rollover_of(self) : 0;
}

/* Leaves the library's memory for a real io.BytesIO, for a call that only
 * BytesIO answers exactly; 0 or -1. */
static int as_bytesio(Spooled *self)
{
    return self->buf ? to_bytesio(self) : 0;
}

static PyObject *sp_write(Spooled *self, PyObject *arg)
{
    SP_CHECK(self);
    SpoolBuffer *buf = self->buf;
    if (buf && buf->f) {
        ssize_t n;
        if (PyBytes_CheckExact(arg)) {
            n = tf_file_write(buf->f, PyBytes_AS_STRING(arg), (size_t)PyBytes_GET_SIZE(arg));
        } else {
            Py_buffer v;
            if (PyObject_GetBuffer(arg, &v, PyBUF_SIMPLE) < 0) {
                PyErr_Clear();   /* BytesIO says what is wrong with it */
                goto as_bytesio;
            }
            n = tf_file_write(buf->f, v.buf, (size_t)v.len);
            PyBuffer_Release(&v);
        }
        if (n < 0)
            return ct_errno_error();
        self->pos += n;
        if ((self->by_size != BY_NEVER || (PyObject *)Py_TYPE(self) != spool_class) &&
            after_write(self) < 0)
            return NULL;
        return PyLong_FromSsize_t(n);
    }
as_bytesio:
    if (as_bytesio(self) < 0)
        return NULL;
    PyObject *r = call_file(self, "write", &arg, 1);
    if (r && after_write(self) < 0)
        Py_CLEAR(r);
    return r;
}

static PyObject *sp_writelines(Spooled *self, PyObject *arg)
{
    SP_CHECK(self);
    if (as_bytesio(self) < 0)
        return NULL;
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
    if (as_bytesio(self) < 0)
        return NULL;
    if (nargs == 1 && args[0] != Py_None) {
        int bigger = PyObject_RichCompareBool(args[0], self->max_size_obj, Py_GT);
        if (bigger < 0 || (bigger && rollover_of(self) < 0))
            return NULL;
    } else {
        nargs = 0;
    }
    return call_file(self, "truncate", args, nargs);
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
    if (rollover_of(self) < 0)
        return NULL;
    return call_file(self, "fileno", NULL, 0);
}

/* Whether the library's memory file answers these arguments exactly as
 * BytesIO would: at most max ints that fit a Py_ssize_t (None too, for a
 * read size), whence 0-2, no negative absolute seek. */
static int plain_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t max, int seek)
{
    if (nargs > max || (seek && nargs < 1))
        return 0;
    Py_ssize_t v[2];
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (!seek && args[i] == Py_None)
            return 1;
        if (!PyLong_CheckExact(args[i]))
            return 0;
        v[i] = PyLong_AsSsize_t(args[i]);
        if (v[i] == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
    }
    return !seek || (nargs == 1 ? v[0] >= 0 : v[1] >= 0 && v[1] <= 2 && (v[1] || v[0] >= 0));
}

/* read(), seek() and tell(), on the library's memory while their
 * arguments are plain (its position kept); anything else on a BytesIO. */
#define DELEGATE_PLAIN(cname, pyname, max, seek)                                     \
    static PyObject *cname(Spooled *self, PyObject *const *args, Py_ssize_t nargs)   \
    {                                                                                \
        SP_CHECK(self);                                                              \
        if (self->buf && !plain_args(args, nargs, max, seek) && to_bytesio(self) < 0) \
            return NULL;                                                             \
        PyObject *r = call_file(self, pyname, args, nargs);                          \
        if (r && self->buf && self->buf->f)                                          \
            self->pos = tf_file_tell(self->buf->f);                                  \
        return r;                                                                    \
    }

#define DELEGATE(cname, pyname)                                                      \
    static PyObject *cname(Spooled *self, PyObject *const *args, Py_ssize_t nargs)   \
    {                                                                                \
        SP_CHECK(self);                                                              \
        if (as_bytesio(self) < 0)                                                    \
            return NULL;                                                             \
        return call_file(self, pyname, args, nargs);                                 \
    }

DELEGATE_PLAIN(sp_read, "read", 1, 0)
DELEGATE_PLAIN(sp_seek, "seek", 2, 1)
DELEGATE_PLAIN(sp_tell, "tell", 0, 0)
DELEGATE(sp_read1, "read1")
DELEGATE(sp_readinto, "readinto")
DELEGATE(sp_readinto1, "readinto1")
DELEGATE(sp_readline, "readline")
DELEGATE(sp_readlines, "readlines")
DELEGATE(sp_flush, "flush")
DELEGATE(sp_isatty, "isatty")
DELEGATE(sp_readable, "readable")
DELEGATE(sp_writable, "writable")
DELEGATE(sp_seekable, "seekable")
DELEGATE(sp_detach, "detach")
static PyObject *sp_close(Spooled *self, PyObject *const *args, Py_ssize_t nargs)
{
    SP_CHECK(self);
    return call_file(self, "close", args, nargs);
}

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
    if (as_bytesio(self) < 0)
        return NULL;
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
    PyObject *r = PyObject_GetAttrString(self->file, name);
    if (!r && self->buf && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();   /* in BytesIO's words */
        PyErr_Format(PyExc_AttributeError, "'_io.BytesIO' object has no attribute '%s'", name);
    }
    return r;
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
    if (as_bytesio(self) < 0)
        return NULL;
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
    if (self->rolled || self->args_gone) {
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
    {"_restore", CT_ONEARG(sp_restore), NULL},
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
 * one costs a third more per write(). cls is the package's class, whose
 * rollover and _check a subclass may override (overrides()).
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
    Py_XSETREF(spool_class, Py_NewRef(cls));
    Py_XSETREF(own_rollover, PyObject_GetAttrString(cls, "rollover"));
    Py_XSETREF(own_check, PyObject_GetAttrString(cls, "_check"));
    if (!own_rollover || !own_check)
        return NULL;
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
    {Py_tp_finalize, sp_finalize},
    {0, NULL},
};

static PyType_Spec sp_spec = {
    .name = "ctempfile._ctempfile._Spooled",
    .basicsize = sizeof(Spooled),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = sp_slots,
};

SpoolBuffer *ct_spooled_buffer(PyObject *sp)
{
    SpoolBuffer *buf = ((Spooled *)sp)->buf;
    /* Not once the library rolled it to disk by itself (a far write): that
     * is a file, for the calls on _file. */
    return buf && buf->f && tf_file_rolled(buf->f) != 1 ? buf : NULL;
}

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
