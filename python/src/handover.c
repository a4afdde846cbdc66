/*
 * Hand-over for ctempfile (ctempfile/_capabilities.py): tf_file_send() of an
 * adopted handle and tf_file_recv() into what the Python layer wraps as a
 * file object. Both block until the peer answers, without the GIL.
 */
#include "module.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* send(handle, sock, share) -> None. Move: the handle is spent (the library
 * freed it); share: it stays, as one of the shared owners. */
static PyObject *ct_send(PyObject *m, PyObject *args)
{
    (void)m;
    PyObject *handle;
    int sock, share;
    if (!PyArg_ParseTuple(args, "Oip:send", &handle, &sock, &share))
        return NULL;
    tf_file **slot = ct_open_handle_slot(handle);
    if (!slot)
        return NULL;
    int rc, err;
    Py_BEGIN_ALLOW_THREADS
    rc = tf_file_send(sock, *slot, share ? TF_HANDOFF_SHARE : 0);
    err = errno;
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return ct_oserror(err, NULL);
    if (!share)
        *slot = NULL;
    Py_RETURN_NONE;
}

/*
 * receive(sock) -> (fd, name, handle). fd is the caller's: a dup of a named
 * file's descriptor, whose handle (a FileHandle: remove() is the owner's
 * cleanup, which removes the name unless the sender kept the file) holds
 * the name; an unnamed file's own descriptor, with name and handle None.
 */
static PyObject *ct_receive(PyObject *m, PyObject *args)
{
    (void)m;
    int sock;
    if (!PyArg_ParseTuple(args, "i:receive", &sock))
        return NULL;
    tf_file *f;
    int err;
    Py_BEGIN_ALLOW_THREADS
    f = tf_file_recv(sock, 0);
    err = errno;
    Py_END_ALLOW_THREADS
    if (!f)
        return ct_oserror(err, NULL);
    const char *name = tf_file_name(f);
    if (!name) {
        int fd = tf_file_detach(f);
        err = errno;
        tf_file_release(f);
        return fd < 0 ? ct_oserror(err, NULL) : Py_BuildValue("(iOO)", fd, Py_None, Py_None);
    }
    PyObject *pyname = PyBytes_FromString(name);
    PyObject *handle = pyname ? ct_file_handle_new(f, pyname) : NULL;
    if (!handle) {
        Py_XDECREF(pyname);
        tf_file_release(f);   /* ours to remove: nobody else has it now */
        return NULL;
    }
    int fd = fcntl(tf_file_fileno(f), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        ct_errno_error();
        Py_DECREF(pyname);
        tf_file_release(ct_file_handle_take(handle));   /* ours: removed */
        Py_DECREF(handle);
        return NULL;
    }
    return Py_BuildValue("(iNN)", fd, pyname, handle);
}

static PyMethodDef ct_handover_methods[] = {
    {"send", CT_VARARGS(ct_send), "send(handle, sock, share): tf_file_send."},
    {"receive", CT_VARARGS(ct_receive), "receive(sock) -> (fd, name, keep, handle): tf_file_recv."},
    {NULL, NULL, 0, NULL},
};

int ct_handover_init(PyObject *m)
{
    return PyModule_AddFunctions(m, ct_handover_methods);
}
