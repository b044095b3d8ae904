import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")

application = get_wsgi_application()

# FitHub's metrics and their signal receivers, in every worker from the start.
import fithub.metrics  # noqa: E402, F401
