/*
 * ctempfile's C core (_ctempfile): what the module's two C files share.
 * Everything here sits on the public libtempfile API (tempfile.h) only.
 */
#ifndef CTEMPFILE_MODULE_H
#define CTEMPFILE_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "tempfile.h"

#if PY_VERSION_HEX >= 0x030C0000
#define CT_T_OBJECT Py_T_OBJECT_EX
#define CT_READONLY Py_READONLY
#else
#include <structmember.h>
#define CT_T_OBJECT T_OBJECT_EX
#define CT_READONLY READONLY
#endif

/* dir, prefix and suffix converted to filesystem bytes (NULL for None). */
typedef struct {
    PyObject *dir;
    PyObject *prefix;
    PyObject *suffix;
    PyObject *dir_obj;   /* the dir argument as given, for error messages */
} ct_names;

/* Converts the three arguments; 0 on success, -1 with an exception set. */
int ct_names_parse(ct_names *n, PyObject *dir, PyObject *prefix, PyObject *suffix);
void ct_names_clear(ct_names *n);
/* Fills opts from n (borrowed pointers, valid while n is). */
void ct_names_opts(const ct_names *n, tf_opts *opts);

/* Raises the OSError subclass for err, naming filename (may be NULL). */
PyObject *ct_oserror(int err, PyObject *filename);

/* io.open, io.TextIOWrapper, io.UnsupportedOperation (set at module init). */
extern PyObject *ct_io_open;
extern PyObject *ct_io_TextIOWrapper;
extern PyObject *ct_io_UnsupportedOperation;

/* spooled.c */
extern PyTypeObject ct_SpoolBuffer_Type;
extern PyTypeObject ct_Spooled_Type;
extern PyTypeObject ct_FdOpener_Type;
int ct_spooled_init(PyObject *module);
PyObject *ct_bind(PyObject *m, PyObject *package);
/* An io.open() opener handing over fd once (closing it if never asked). */
PyObject *ct_fd_giver(int fd);
/* The ctempfile package (set by _bind), NULL before. */
extern PyObject *ct_package;

#endif
