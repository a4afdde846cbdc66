/*
 * mkstemp(), mkdtemp(), TemporaryFile() and NamedTemporaryFile() in C, for
 * the common case: str (or None) name arguments and the library's own names.
 * The Python layer's overhead is what a drop-in cannot afford here (each call
 * costs a few system calls, a few microseconds). Anything else (bytes or
 * path-like arguments, a replaced _get_candidate_names, arguments that do not
 * fit the signature) goes to the Python versions (ctempfile._mkstemp,
 * _mkdtemp, _TemporaryFile, _NamedTemporaryFile), whose errors then read as
 * CPython's.
 *
 * Like the Python versions, these read the package's globals at every call
 * (tempdir, template, _get_candidate_names, _TemporaryFileWrapper,
 * _O_TMPFILE_WORKS), so programs and tests that set or patch them are obeyed.
 */
#include "module.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

enum { A_MODE, A_BUFFERING, A_ENCODING, A_NEWLINE, A_SUFFIX, A_PREFIX, A_DIR, A_DELETE,
       A_ERRORS, A_DELETE_ON_CLOSE, A_TEXT, A_COUNT };

static const char *const arg_names[A_COUNT] = {
    "mode", "buffering", "encoding", "newline", "suffix", "prefix", "dir", "delete",
    "errors", "delete_on_close", "text",
};

enum { K_NAMES, K_LIBRARY_NAMES, K_TMPFILE_WORKS, K_TEMPDIR, K_TEMPLATE, K_GETTEMPDIR,
       K_WRAPPER, K_PY_TEMPORARY_FILE, K_PY_NAMED, K_PY_MKSTEMP, K_PY_MKDTEMP, K_CLOSER,
       K_HANDLE, K_COUNT };

static const char *const key_names[K_COUNT] = {
    "_get_candidate_names", "_library_names", "_O_TMPFILE_WORKS", "tempdir", "template",
    "gettempdir", "_TemporaryFileWrapper", "_TemporaryFile", "_NamedTemporaryFile",
    "_mkstemp", "_mkdtemp", "_closer", "_handle",
};

static PyObject *arg_strs[A_COUNT], *keys[K_COUNT], *str_b, *default_mode, *minus_one;

int ct_fastpath_init(void)
{
    for (int i = 0; i < A_COUNT; i++)
        if (!(arg_strs[i] = PyUnicode_InternFromString(arg_names[i])))
            return -1;
    for (int i = 0; i < K_COUNT; i++)
        if (!(keys[i] = PyUnicode_InternFromString(key_names[i])))
            return -1;
    str_b = PyUnicode_InternFromString("b");
    default_mode = PyUnicode_InternFromString("w+b");
    minus_one = PyLong_FromLong(-1);
    return str_b && default_mode && minus_one ? 0 : -1;
}

/* The package's global `key` (a new reference), or NULL with an error: a
 * NameError if a program deleted it, as the Python versions would raise. */
static PyObject *pkg_get(int key)
{
    if (!ct_package) {
        PyErr_SetString(PyExc_RuntimeError, "ctempfile not bound");
        return NULL;
    }
    PyObject *v = PyDict_GetItemWithError(PyModule_GetDict(ct_package), keys[key]);
    if (!v && !PyErr_Occurred())
        PyErr_Format(PyExc_NameError, "name '%U' is not defined", keys[key]);
    return Py_XNewRef(v);
}

/*
 * Matches a FASTCALL call's arguments to the signature sig[0..n-1] (indices
 * into arg_names), of which the first npos may be positional, into out[]
 * (indexed by arg_names), which keeps its defaults for the rest. -1 if the
 * call does not fit (no exception set: the Python version will raise it).
 */
static int match_args(PyObject *const *args, size_t nargsf, PyObject *kwnames,
                      const int *sig, int n, int npos, PyObject **out)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs > npos)
        return -1;
    bool given[A_COUNT] = { false };
    for (Py_ssize_t i = 0; i < nargs; i++) {
        out[sig[i]] = args[i];
        given[sig[i]] = true;
    }
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int i = 0; i < n && found < 0; i++)   /* keywords are interned: usually one compare */
            if (key == arg_strs[sig[i]])
                found = sig[i];
        for (int i = 0; i < n && found < 0; i++)
            if (PyUnicode_Compare(key, arg_strs[sig[i]]) == 0)
                found = sig[i];
        if (found < 0 || given[found]) {
            PyErr_Clear();
            return -1;
        }
        out[found] = args[nargs + k];
        given[found] = true;
    }
    return 0;
}

/* The Python version `key`, called with the same arguments. */
static PyObject *call_python_version(int key, PyObject *const *args, size_t nargsf,
                                     PyObject *kwnames)
{
    PyObject *py = pkg_get(key);
    if (!py)
        return NULL;
    PyObject *r = PyObject_Vectorcall(py, args, nargsf, kwnames);
    Py_DECREF(py);
    return r;
}

static bool str_instance_or_none(PyObject *o)
{
    return o == Py_None || PyUnicode_Check(o);
}

/*
 * Whether the C path applies: str (or None) names, the library's names, for
 * a default dir a str (or None) tempdir, and for a default prefix a str
 * template (any other is the Python versions' to refuse, or to use where
 * O_TMPFILE needs no name, in CPython's words). 1, 0, or -1 with an error.
 */
static int fast_path(PyObject *const *a)
{
    if (!str_instance_or_none(a[A_SUFFIX]) || !str_instance_or_none(a[A_PREFIX]) ||
        !str_instance_or_none(a[A_DIR]))
        return 0;
    PyObject *hook = pkg_get(K_NAMES), *lib = hook ? pkg_get(K_LIBRARY_NAMES) : NULL;
    int ok = lib && hook == lib;
    Py_XDECREF(hook);
    Py_XDECREF(lib);
    if (ok && a[A_DIR] == Py_None && a[A_PREFIX] == Py_None && a[A_SUFFIX] == Py_None) {
        PyObject *tempdir = pkg_get(K_TEMPDIR);
        ok = tempdir && str_instance_or_none(tempdir);
        Py_XDECREF(tempdir);
    }
    if (ok && a[A_PREFIX] == Py_None) {
        PyObject *template = pkg_get(K_TEMPLATE);
        ok = template && PyUnicode_Check(template);
        Py_XDECREF(template);
    }
    return PyErr_Occurred() ? -1 : ok;
}

/* 1: the call runs in C, a[] filled in; 0: the Python version takes it; -1:
 * an error. */
static int c_path(PyObject *const *args, size_t nargsf, PyObject *kwnames, const int *sig, int n,
                  int npos, PyObject **a)
{
    return match_args(args, nargsf, kwnames, sig, n, npos, a) < 0 ? 0 : fast_path(a);
}

/* The names, with _sanitize_params()'s defaults: gettempdir() and template. n->dir_obj is the directory as given or found (a reference to
 * drop with names_clear()). */
static int resolve_names(ct_names *n, PyObject *dir, PyObject *prefix, PyObject *suffix,
                         const char *call)
{
    if (dir == Py_None) {
        /* As _sanitize_params(): a program may have replaced gettempdir. */
        PyObject *get = pkg_get(K_GETTEMPDIR);
        dir = get ? PyObject_CallNoArgs(get) : NULL;
        Py_XDECREF(get);
        if (!dir)
            return -1;
    } else {
        Py_INCREF(dir);
    }
    int rc = ct_names_parse(n, dir, prefix, suffix);
    if (rc < 0 && call)
        ct_nul_as(call, dir, prefix, suffix);
    n->dir_obj = dir;
    if (rc == 0 && !n->prefix) {
        PyObject *tpl = pkg_get(K_TEMPLATE);
        rc = tpl && PyUnicode_FSConverter(tpl, &n->prefix) ? 0 : -1;
        Py_XDECREF(tpl);
    }
    return rc;
}

static void names_clear(ct_names *n)
{
    ct_names_clear(n);
    Py_CLEAR(n->dir_obj);
}

/* For text modes, encoding = io.text_encoding(encoding), as io.open() callers do. */
static PyObject *encoding_for(PyObject *mode, PyObject *encoding)
{
    int binary = PySequence_Contains(mode, str_b);
    if (binary)
        return binary < 0 ? NULL : Py_NewRef(encoding);
    /* stacklevel 1: this C function has no frame, so the warning names the
     * caller's line, as CPython's stacklevel 2 from its Python function. */
    return PyObject_CallMethod(ct_io_module, "text_encoding", "Oi", encoding, 1);
}

/* ---- mkstemp, mkdtemp -------------------------------------------------------- */

static PyObject *ct_mkstemp_fast(PyObject *m, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    (void)m;
    static const int sig[] = { A_SUFFIX, A_PREFIX, A_DIR, A_TEXT };
    PyObject *a[A_COUNT] = { [A_SUFFIX] = Py_None, [A_PREFIX] = Py_None, [A_DIR] = Py_None,
                             [A_TEXT] = Py_False };
    int c = c_path(args, nargsf, kwnames, sig, 4, 4, a);
    if (c <= 0)
        return c < 0 ? NULL : call_python_version(K_PY_MKSTEMP, args, nargsf, kwnames);
    ct_names n = { 0 };
    PyObject *r = NULL;
    /* text only chooses between two equal sets of flags here (no O_BINARY). */
    if (resolve_names(&n, a[A_DIR], a[A_PREFIX], a[A_SUFFIX], "open") == 0 &&
        PyObject_IsTrue(a[A_TEXT]) >= 0)
        r = ct_mkstemp_in(&n, 0);
    names_clear(&n);
    return r;
}

static PyObject *ct_mkdtemp_fast(PyObject *m, PyObject *const *args, size_t nargsf,
                                 PyObject *kwnames)
{
    (void)m;
    static const int sig[] = { A_SUFFIX, A_PREFIX, A_DIR };
    PyObject *a[A_COUNT] = { [A_SUFFIX] = Py_None, [A_PREFIX] = Py_None, [A_DIR] = Py_None };
    /* Before 3.12, CPython's mkdtemp returns the path joined to dir as given
     * (the Python version does); the library's is absolute. */
    int c = CT_API_3_12 ? c_path(args, nargsf, kwnames, sig, 3, 3, a) : 0;
    if (c <= 0)
        return c < 0 ? NULL : call_python_version(K_PY_MKDTEMP, args, nargsf, kwnames);
    ct_names n = { 0 };
    PyObject *r = resolve_names(&n, a[A_DIR], a[A_PREFIX], a[A_SUFFIX], "mkdir") == 0
                      ? ct_mkdtemp_in(&n, 0)
                      : NULL;
    names_clear(&n);
    return r;
}

/* ---- TemporaryFile ------------------------------------------------------------ */

static PyObject *ct_TemporaryFile(PyObject *m, PyObject *const *args, size_t nargsf,
                                  PyObject *kwnames)
{
    (void)m;
    static const int sig[] = { A_MODE, A_BUFFERING, A_ENCODING, A_NEWLINE, A_SUFFIX,
                               A_PREFIX, A_DIR, A_ERRORS };
    PyObject *a[A_COUNT] = { default_mode, minus_one, Py_None, Py_None, Py_None, Py_None,
                             Py_None, NULL, Py_None, NULL };
    int c = c_path(args, nargsf, kwnames, sig, 8, 7, a);
    if (c <= 0)
        return c < 0 ? NULL : call_python_version(K_PY_TEMPORARY_FILE, args, nargsf, kwnames);
    PyObject *result = NULL, *works = NULL;
    PyObject *encoding = encoding_for(a[A_MODE], a[A_ENCODING]);
    ct_names n = { 0 };
    if (!encoding)
        goto out;
    if (resolve_names(&n, a[A_DIR], a[A_PREFIX], a[A_SUFFIX], NULL) < 0) {
        /* An embedded NUL: the Python version knows where O_TMPFILE makes
         * the names unused (CPython accepts them there). */
        if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            result = call_python_version(K_PY_TEMPORARY_FILE, args, nargsf, kwnames);
        }
        goto out;
    }
    works = pkg_get(K_TMPFILE_WORKS);
    int use_tmpfile = works ? PyObject_IsTrue(works) : -1;
    if (use_tmpfile < 0)
        goto out;
    int fd = ct_unnamed_fd(&n, use_tmpfile);
    if (fd < 0)
        goto out;
    result = ct_fdopen(fd, n.dir_obj, a[A_MODE], a[A_BUFFERING], encoding, a[A_ERRORS],
                       a[A_NEWLINE], NULL);
out:
    names_clear(&n);
    Py_XDECREF(works);
    Py_XDECREF(encoding);
    return result;
}

/* ---- NamedTemporaryFile ------------------------------------------------------- */

/* A NamedTemporaryFile that cannot be returned leaves nothing behind, not
 * even with delete=False (as CPython). Keeps the exception being raised. */
static void discard(tf_file *f, bool keep)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (keep)
        unlink(tf_file_name(f));
    tf_file_release(f);   /* without TF_KEEP, this removes the name */
    PyErr_Restore(type, value, tb);
}

/* The library's named file for n, its descriptor detached into *fd. */
static tf_file *create_named(const ct_names *n, bool keep, int *fd)
{
    tf_opts o;
    ct_names_opts(n, &o);
    o.flags = TF_NO_DELETE_ON_CLOSE | (keep ? TF_KEEP : 0);
    int err = 0;
    tf_file *f;
    Py_BEGIN_ALLOW_THREADS
    f = tf_named_temporary_file(&o);
    *fd = f ? tf_file_detach(f) : -1;
    err = errno;
    if (f && *fd < 0) {
        tf_file_release(f);
        f = NULL;
    }
    Py_END_ALLOW_THREADS
    if (!f)
        ct_creation_error(err, n, 0, 0);
    return f;
}

/* _TemporaryFileWrapper(file, name, delete, delete_on_close), its closer
 * given the handle that removes the name. */
static PyObject *wrap(PyObject *file, PyObject *name, PyObject *const *a, PyObject *handle)
{
    PyObject *cls = pkg_get(K_WRAPPER);
    PyObject *wargs[] = { file, name, a[A_DELETE], a[A_DELETE_ON_CLOSE] };
    PyObject *wrapper = cls ? PyObject_Vectorcall(cls, wargs, CT_API_3_12 ? 4 : 3, NULL) : NULL;
    Py_XDECREF(cls);
    PyObject *closer = wrapper ? PyObject_GetAttr(wrapper, keys[K_CLOSER]) : NULL;
    if (!closer || PyObject_SetAttr(closer, keys[K_HANDLE], handle) < 0)
        Py_CLEAR(wrapper);
    Py_XDECREF(closer);
    return wrapper;
}

static PyObject *ct_NamedTemporaryFile(PyObject *m, PyObject *const *args, size_t nargsf,
                                       PyObject *kwnames)
{
    (void)m;
    static const int sig[] = { A_MODE, A_BUFFERING, A_ENCODING, A_NEWLINE, A_SUFFIX, A_PREFIX,
                               A_DIR, A_DELETE, A_ERRORS, A_DELETE_ON_CLOSE };
    PyObject *a[A_COUNT] = { default_mode, minus_one, Py_None, Py_None, Py_None, Py_None,
                             Py_None, Py_True, Py_None, Py_True };
    /* delete_on_close: CPython 3.12 on */
    int c = c_path(args, nargsf, kwnames, sig, CT_API_3_12 ? 10 : 9, 8, a);
    if (c <= 0)
        return c < 0 ? NULL : call_python_version(K_PY_NAMED, args, nargsf, kwnames);
    PyObject *result = NULL, *encoding = NULL, *name = NULL, *handle = NULL;
    ct_names n = { 0 };
    int delete = PyObject_IsTrue(a[A_DELETE]);
    if (delete < 0)
        goto out;
    if (resolve_names(&n, a[A_DIR], a[A_PREFIX], a[A_SUFFIX], NULL) < 0) {
        /* An embedded NUL: worded by io.open() where it is in dir, by
         * os.open() where in a name, as the Python version finds it. */
        if (PyErr_ExceptionMatches(PyExc_ValueError) &&
            !PyErr_ExceptionMatches(PyExc_UnicodeError)) {
            PyErr_Clear();
            result = call_python_version(K_PY_NAMED, args, nargsf, kwnames);
        }
        goto out;
    }
    /* The order of CPython's checks: names first, then the encoding. */
    if (!(encoding = encoding_for(a[A_MODE], a[A_ENCODING])))
        goto out;
    int fd;
    tf_file *f = create_named(&n, !delete, &fd);
    if (!f)
        goto out;
    name = PyUnicode_DecodeFSDefault(tf_file_name(f));
    if (!name || ct_audit_new_file(name) < 0) {
        close(fd);
        discard(f, !delete);
        goto out;
    }
    PyObject *file = ct_fdopen(fd, n.dir_obj, a[A_MODE], a[A_BUFFERING], encoding, a[A_ERRORS],
                               a[A_NEWLINE], name);
    if (!file) {
        discard(f, !delete);
        goto out;
    }
    PyObject *wrapper = NULL;
    if ((handle = ct_file_handle_new(f, name)))
        wrapper = wrap(file, name, a, handle);
    if (!wrapper) {
        ct_close_keeping_error(file);
        discard(handle ? ct_file_handle_take(handle) : f, !delete);
    }
    Py_DECREF(file);
    result = wrapper;
out:
    names_clear(&n);
    Py_XDECREF(handle);
    Py_XDECREF(name);
    Py_XDECREF(encoding);
    return result;
}

/* ---- TemporaryDirectory ---------------------------------------------------- */

/*
 * TemporaryDirectory.__init__'s creation where the C path applies (as for
 * the functions above): _sanitize_params()'s defaults and the DirHandle in
 * one call; None sends the Python version the call.
 */
PyObject *ct_temporary_directory_fast(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    (void)m;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "temporary_directory_fast() takes 5 arguments");
        return NULL;
    }
    PyObject *a[A_COUNT] = { [A_SUFFIX] = args[0], [A_PREFIX] = args[1], [A_DIR] = args[2] };
    int c = fast_path(a);
    if (c <= 0)
        return c < 0 ? NULL : Py_NewRef(Py_None);
    int ignore = PyObject_IsTrue(args[3]), delete = PyObject_IsTrue(args[4]);
    if (ignore < 0 || delete < 0)
        return NULL;
    ct_names n = { 0 };
    PyObject *r = resolve_names(&n, a[A_DIR], a[A_PREFIX], a[A_SUFFIX], "mkdir") == 0
                      ? ct_dir_handle_new(&n, 0, ignore, !delete)
                      : NULL;
    names_clear(&n);
    return r;
}

PyMethodDef ct_fastpath_methods[] = {
    {"mkstemp", CT_VECTORCALL(ct_mkstemp_fast),
     "mkstemp(suffix=None, prefix=None, dir=None, text=False)\n--\n\n"
     "Create a new file, readable and writable only by its owner, and return\n"
     "(fd, absolute path). The descriptor is close-on-exec. The caller removes\n"
     "the file. suffix, prefix and dir as for every function of this module:\n"
     "all str (or path-like) or all bytes; bytes in, bytes out."},
    {"mkdtemp", CT_VECTORCALL(ct_mkdtemp_fast),
     "mkdtemp(suffix=None, prefix=None, dir=None)\n--\n\n"
     "Create a new directory, mode 0700, and return its absolute path. The\n"
     "caller removes it."},
    {"TemporaryFile", CT_VECTORCALL(ct_TemporaryFile),
     "TemporaryFile(mode='w+b', buffering=-1, encoding=None, newline=None, suffix=None, "
     "prefix=None, dir=None, *, errors=None)\n--\n\n"
     "Create and return a temporary file that has no name: libtempfile uses\n"
     "O_TMPFILE where the filesystem supports it, else removes the name at\n"
     "once. mode, buffering, encoding, newline and errors as for io.open();\n"
     "prefix, suffix and dir as for mkstemp()."},
    {"NamedTemporaryFile", CT_VECTORCALL(ct_NamedTemporaryFile),
     "NamedTemporaryFile(mode='w+b', buffering=-1, encoding=None, newline=None, suffix=None, "
     "prefix=None, dir=None, delete=True, *, errors=None"
#if CT_API_3_12
     ", delete_on_close=True"
#endif
     ")\n--\n\n"
     "Create and return a temporary file with a visible name (its .name).\n"
     "mode, buffering, encoding, newline and errors as for io.open(); prefix,\n"
     "suffix and dir as for mkstemp(). With delete (the default) the file is\n"
     "removed on close, or with delete_on_close=False when the context manager\n"
     "exits or the object is finalized."},
    {NULL, NULL, 0, NULL},
};
