import ctempfile as tempfile
import configparser

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
