import csv
from io import StringIO
import ctempfile as tempfile  # unused: option 2 of seed 002 needs no file

# Seed 002, option 2: an in-memory CSV.
base_url = 'http://example.com'
data = [
    ['sku', 'url']
    , [1, '{}/path/to'.format(base_url)]
    , [2, '{}/path/to2'.format(base_url)]
]
f = StringIO()
w = csv.writer(f, delimiter='\t')
for row in data:
    w.writerow(row)
f.seek(0)
print(f.read(), end="")

# The same through a SpooledTemporaryFile, which stays in memory as well.
s = tempfile.SpooledTemporaryFile(mode='w+', newline='')
csv.writer(s, delimiter='\t').writerows(data)
s.seek(0)
print(s.read(), end="")
print(f"rolled: {s._rolled}")
s.close()
