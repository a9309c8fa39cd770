"""The ASGI app uvicorn imports: settings read from the environment once per worker."""

from .app import create_app
from .settings import Settings

app = create_app(Settings.from_env())
