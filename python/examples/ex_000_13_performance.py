import ctempfile as tempfile
import time

# Seed 000, slide 13: 100,000 one-byte writes, spooled vs on disk.
def performance_test(file_type, iterations=100000):
    start_time = time.time()
    if file_type == 'spooled':
        temp_file = tempfile.SpooledTemporaryFile(max_size=1024*1024)
    else:
        temp_file = tempfile.TemporaryFile()

    for _ in range(iterations):
        temp_file.write(b"x")

    temp_file.close()
    return time.time() - start_time

spooled_time = performance_test('spooled')
regular_time = performance_test('regular')

print(f"SpooledTemporaryFile: {spooled_time:.4f} seconds")
print(f"TemporaryFile: {regular_time:.4f} seconds")
