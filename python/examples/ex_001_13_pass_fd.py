import os
import socket
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
