/*
 * Secure deletion for ctempfile (ctempfile/_capabilities.py): tf_shred() and
 * tf_shred_tree() of a path, tf_file_shred() of an adopted handle or of a
 * SpooledTemporaryFile's memory. Every call returns (err, report), the
 * report being filled on failure too (it says why a shred was refused).
 */
#include "module.h"

#include <errno.h>

/* (fs_type, why, effective, passes, bytes, files, grew, left) */
static PyObject *report_tuple(const tf_shred_report *r)
{
    return Py_BuildValue("(kIiIKniy)", r->fs_type, r->why, r->effective, r->passes, r->bytes,
                         (Py_ssize_t)r->files, r->grew, r->left);
}

static PyObject *shred_result(int rc, int err, const tf_shred_report *r)
{
    PyObject *report = report_tuple(r);
    return report ? Py_BuildValue("(iN)", rc < 0 ? err : 0, report) : NULL;
}

/* shred_path(path, passes, flags, tree) -> (err, report). */
static PyObject *ct_shred_path(PyObject *m, PyObject *args)
{
    (void)m;
    const char *path;
    unsigned passes, flags;
    int tree;
    if (!PyArg_ParseTuple(args, "yIIp:shred_path", &path, &passes, &flags, &tree))
        return NULL;
    tf_shred_opts o = { .passes = passes, .flags = flags };
    tf_shred_report r = { 0 };
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = tree ? tf_shred_tree(path, &o, &r) : tf_shred(path, &o, &r);
    err = errno;
    Py_END_ALLOW_THREADS
    return shred_result(rc, err, &r);
}

/* The library handle behind a FileHandle or a SpoolBuffer still in memory. */
static tf_file *shreddable(PyObject *obj)
{
    if (PyObject_TypeCheck(obj, &ct_SpoolBuffer_Type)) {
        tf_file *f = ((SpoolBuffer *)obj)->f;
        if (!f)
            ct_closed_error();
        return f;
    }
    tf_file **slot = ct_open_handle_slot(obj);
    return slot ? *slot : NULL;
}

/* shred_file(handle or SpoolBuffer, passes, flags) -> (err, report). */
static PyObject *ct_shred_file(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *obj;
    unsigned passes, flags;
    if (!PyArg_ParseTuple(args, "OII:shred_file", &obj, &passes, &flags))
        return NULL;
    tf_file *f = shreddable(obj);
    if (!f)
        return NULL;
    tf_shred_opts o = { .passes = passes, .flags = flags };
    tf_shred_report r = { 0 };
    int rc, err;
    if (PyObject_TypeCheck(obj, &ct_SpoolBuffer_Type)) {
        /* The memory of a SpooledTemporaryFile that other threads may use:
         * wiped with the GIL held, as a BytesIO's calls run, so that no
         * close() or write() frees or grows it meanwhile. No syscall. */
        rc = tf_file_shred(f, &o, &r);
        err = errno;
        return shred_result(rc, err, &r);
    }
    /* An adopted handle, this call's own: no other thread has it. */
    Py_BEGIN_ALLOW_THREADS
    rc = tf_file_shred(f, &o, &r);
    err = errno;
    Py_END_ALLOW_THREADS
    return shred_result(rc, err, &r);
}

/* spooled_memory(sp) -> the SpoolBuffer of a SpooledTemporaryFile whose data
 * is still the library's memory, or None (on disk, or in an io.BytesIO). */
static PyObject *ct_spooled_memory(PyObject *m, PyObject *sp)
{
    PyObject *type = PyObject_GetAttrString(m, "_Spooled");
    if (!type)
        return NULL;
    int ok = PyType_Check(type) && PyObject_TypeCheck(sp, (PyTypeObject *)type);
    Py_DECREF(type);
    if (!ok)
        return PyErr_Format(PyExc_TypeError, "expected a SpooledTemporaryFile, not %.100s",
                            Py_TYPE(sp)->tp_name);
    SpoolBuffer *buf = ct_spooled_buffer(sp);
    return Py_NewRef(buf ? (PyObject *)buf : Py_None);
}

/* shred_reasons() -> {bit: phrase} for every TF_FS_* bit. */
static PyObject *ct_shred_reasons(PyObject *m, PyObject *unused)
{
    (void)m;
    (void)unused;
    PyObject *d = PyDict_New();
    for (unsigned bit = 1; d && bit; bit <<= 1) {
        const char *phrase = tf_shred_reason(bit);
        if (!phrase)
            continue;
        PyObject *k = PyLong_FromUnsignedLong(bit), *v = PyUnicode_FromString(phrase);
        if (!k || !v || PyDict_SetItem(d, k, v) < 0)
            Py_CLEAR(d);
        Py_XDECREF(k);
        Py_XDECREF(v);
    }
    return d;
}

static PyMethodDef ct_shred_methods[] = {
    {"shred_path", CT_VARARGS(ct_shred_path),
     "shred_path(path, passes, flags, tree) -> (err, report): tf_shred, tf_shred_tree."},
    {"shred_file", CT_VARARGS(ct_shred_file),
     "shred_file(handle or SpoolBuffer, passes, flags) -> (err, report): tf_file_shred."},
    {"shred_reasons", CT_NOARGS(ct_shred_reasons), "{TF_FS_* bit: tf_shred_reason(bit)}."},
    {"spooled_memory", CT_ONEARG(ct_spooled_memory),
     "spooled_memory(sp) -> its SpoolBuffer while the library's memory holds the data, or None."},
    {NULL, NULL, 0, NULL},
};

int ct_shred_init(PyObject *m)
{
    static const struct { const char *name; long value; } constants[] = {
        {"SHRED_ZERO", TF_SHRED_ZERO},
        {"SHRED_REMOVE", TF_SHRED_REMOVE},
        {"SHRED_EXACT", TF_SHRED_EXACT},
        {"SHRED_FORCE", TF_SHRED_FORCE},
        {"FS_INEFFECTIVE", TF_FS_INEFFECTIVE},
        {"FS_PROCESS_MEMORY", TF_FS_PROCESS_MEMORY},
    };
    if (PyModule_AddFunctions(m, ct_shred_methods) < 0)
        return -1;
    for (size_t i = 0; i < sizeof constants / sizeof constants[0]; i++)
        if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0)
            return -1;
    return 0;
}
