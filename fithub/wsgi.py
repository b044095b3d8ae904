import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fithub.settings")

application = get_wsgi_application()

# FitHub's metrics and their signal receivers, in every worker from the start.
from fithub.ops.metrics import start_model_series_at_zero  # noqa: E402

start_model_series_at_zero()
