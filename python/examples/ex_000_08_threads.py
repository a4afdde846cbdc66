import ctempfile as tempfile
import threading

# Seed 000, slide 8: NamedTemporaryFile from several threads (a lock keeps
# the threads' lines whole).
print_lock = threading.Lock()

def create_temp_file():
    with tempfile.NamedTemporaryFile(prefix=f"thread_{threading.get_ident()}_") as temp:
        with print_lock:
            print(f"Thread {threading.get_ident()} created: {temp.name}")

threads = [threading.Thread(target=create_temp_file) for _ in range(3)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
