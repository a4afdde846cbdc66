from ctempfile import NamedTemporaryFile

# Seed 001, "Add Prefixes/Suffixes".
with NamedTemporaryFile(prefix='temp', suffix='.dat') as f:
    print(f.name)
