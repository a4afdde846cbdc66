import ctempfile as tempfile
import configparser
import os

# Seed 000, slide 10: a temporary configuration file.
def create_temp_config():
    config = configparser.ConfigParser()
    config['DEFAULT'] = {'ServerAliveInterval': '45',
                         'Compression': 'yes',
                         'CompressionLevel': '9'}

    with tempfile.NamedTemporaryFile(mode='w+', suffix='.ini', delete=False) as temp_config:
        config.write(temp_config)
        return temp_config.name

config_file = create_temp_config()
print(f"Temporary config created at: {config_file}")

# Read the config to verify
config = configparser.ConfigParser()
config.read(config_file)
print(f"CompressionLevel: {config['DEFAULT']['CompressionLevel']}")

# The ctempfile way (not in the standard module): the temporary .ini becomes
# the real config by one atomic, durable rename, or not at all.
persist = getattr(tempfile, "persist", None)
if persist is not None:
    persist(config_file, "app.ini", no_clobber=True)
else:
    os.rename(config_file, "app.ini")
config = configparser.ConfigParser()
config.read("app.ini")
print(f"app.ini CompressionLevel: {config['DEFAULT']['CompressionLevel']}")
