import os
import socket
import ctempfile
from ctempfile import NamedTemporaryFile

# Seed 001, "Transfer Ownership Between Processes": the descriptor goes to
# another process over a Unix socket (SCM_RIGHTS); the receiver cleans up.
temp = NamedTemporaryFile(delete=False)
try:
    temp.write(b'Data')
finally:
    temp.close()

fd = os.open(temp.name, os.O_RDWR)
parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    parent.close()
    msg, fds, _, _ = socket.recv_fds(child, 1024, 1)
    with os.fdopen(fds[0], 'r+b') as f:
        print(f"child read: {f.read()}", flush=True)
    os.remove(msg.decode())
    os._exit(0)
child.close()
socket.send_fds(parent, [temp.name.encode()], [fd])
os.close(fd)
os.waitpid(pid, 0)
print(f"removed by the receiver: {not os.path.exists(temp.name)}")

# The ctempfile way (not in the standard module): the open file itself moves,
# with its cleanup; the receiver's close removes it, the sender's removes
# nothing.
send_file = getattr(ctempfile, "send_file", None)
receive_file = getattr(ctempfile, "receive_file", None)
# (With the standard module the receiver removes it by name: delete=False.)
temp = NamedTemporaryFile(delete=send_file is not None)
temp.write(b'More data')
temp.flush()
parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    parent.close()
    if receive_file is not None:
        with receive_file(child) as f:
            f.seek(0)
            print(f"child read: {f.read()}", flush=True)
    else:
        msg, fds, _, _ = socket.recv_fds(child, 1024, 1)
        with os.fdopen(fds[0], 'r+b') as f:
            f.seek(0)
            print(f"child read: {f.read()}", flush=True)
        os.remove(msg.decode())
    os._exit(0)
child.close()
name = temp.name
if send_file is not None:
    send_file(parent, temp)
else:
    socket.send_fds(parent, [name.encode()], [temp.fileno()])
os.waitpid(pid, 0)
temp.close()
print(f"removed by the receiver: {not os.path.exists(name)}")
