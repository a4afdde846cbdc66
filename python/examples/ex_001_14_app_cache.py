import os
from ctempfile import gettempdir

# Seed 001, "Application Cache" (requests.get replaced by a local stand-in).
CACHE_FILE = os.path.join(gettempdir(), 'app_cache.txt')

class _Response:
    text = "fresh data"

def fetch(url):
    print(f"fetching {url}")
    return _Response()

def get_data():
    if os.path.exists(CACHE_FILE):
        with open(CACHE_FILE) as f:
            return f.read()

    # Cache missing, fetch fresh
    resp = fetch('https://data.app')

    with open(CACHE_FILE, 'w') as f:
        f.write(resp.text)

    return resp.text

print(get_data())
print(get_data())
os.unlink(CACHE_FILE)
