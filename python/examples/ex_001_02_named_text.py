from ctempfile import NamedTemporaryFile

# Seed 001, "NamedTemporaryFile for Filesystem Files".
with NamedTemporaryFile(mode='w+') as f:
    f.write('Text data')
    f.seek(0)

    print(f.read())
