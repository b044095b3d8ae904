from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from fithub import views
from fithub.api.schema_view import CachedSchemaView
from fithub.ops import health

api_v1 = [
    path("", include("apps.users.api.urls")),
    path("", include("apps.nutrition.api.urls")),
    path("", include("apps.measurements.api.urls")),
    path("", include("apps.goals.api.urls")),
    path("", include("fithub.sync.api.urls")),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/schema/", CachedSchemaView.as_view(), name="schema"),
    # Our templates (fithub/templates/fithub/): nothing from another host, no unused script.
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", template_name="fithub/swagger_ui.html"),
        name="swagger-ui",
    ),
    path(
        "api/redoc/",
        SpectacularRedocView.as_view(url_name="schema", template_name="fithub/redoc.html"),
        name="redoc",
    ),
    path("health/live/", health.live, name="health-live"),
    path("health/ready/", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    # The whole instance (all gunicorn workers) in one scrape; nginx does not expose it.
    path("metrics", views.metrics, name="prometheus-django-metrics"),
]

handler400 = "fithub.views.bad_request"
handler403 = "fithub.views.permission_denied"
handler404 = "fithub.views.not_found"
handler500 = "fithub.views.server_error"
