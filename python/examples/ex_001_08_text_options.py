from ctempfile import TemporaryFile

# Seed 001, "Managing File Permissions": text options (mode is the open mode,
# not permission bits: the file is 0600 in both modules anyway).
import os, stat
with TemporaryFile(mode='w+t', buffering=1,
                   encoding='utf8', newline='\n') as f:
    f.write('Data')
    print(oct(stat.S_IMODE(os.fstat(f.fileno()).st_mode)), f.mode, f.encoding, f.line_buffering)
