"""The OpenAPI schema, built once per process and served from memory.

drf-spectacular's view builds the schema on every request: 0.4-0.9 s of CPU for anyone who
asks, a denial of service for the price of a curl loop. Here the schema is built once per
process and language and rendered once per format: gunicorn's master builds it before it
forks (fithub.ops.warmup.warm_code), so every worker starts with the bytes in memory. Each
response carries an ETag (a hash of its bytes) and `Cache-Control: no-cache`: a browser
revalidates and gets a 304 without the body.

Only what can change the schema is part of the key: the renderer (YAML or JSON), a version
of REST_FRAMEWORK's ALLOWED_VERSIONS (none here: others are ignored) and a language of
LANGUAGES (others fall back to LANGUAGE_CODE), so no query string makes the process build or
keep another copy. The schema is the public one (SERVE_PUBLIC): it does not depend on the
caller.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SCHEMA_KWARGS, SpectacularAPIView
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings


@dataclass(frozen=True)
class RenderedSchema:
    body: bytes
    content_type: str
    etag: str


_lock = threading.Lock()
_schemas: dict[tuple, dict] = {}
_bodies: dict[tuple, bytes] = {}
_rendered: dict[tuple, RenderedSchema] = {}
# What the schema is built from: a change (override_settings in tests) drops the copies.
_SCHEMA_SETTINGS = {
    "SPECTACULAR_SETTINGS",
    "REST_FRAMEWORK",
    "DRF_STANDARDIZED_ERRORS",
    "ROOT_URLCONF",
    "LANGUAGES",
    "LANGUAGE_CODE",
    "INSTALLED_APPS",
}


@receiver(setting_changed)
def _settings_changed(*, setting, **kwargs):
    if setting in _SCHEMA_SETTINGS:
        clear()


def clear() -> None:
    """Forget the built and rendered schemas (the next request builds them again)."""
    with _lock:
        _schemas.clear()
        _bodies.clear()
        _rendered.clear()


def language(requested: str | None) -> str:
    """The language to build in: a supported one (LANGUAGES), else LANGUAGE_CODE."""
    if requested and settings.USE_I18N:
        try:
            return translation.get_supported_language_variant(requested)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


def version(requested: str | None) -> str | None:
    """A version the API declares (ALLOWED_VERSIONS), else None: the schema's own."""
    allowed = api_settings.ALLOWED_VERSIONS or ()
    return requested if requested in allowed else None


def _build(view: CachedSchemaView, api_version: str | None, lang: str) -> dict:
    key = (api_version, lang)
    if key not in _schemas:
        generator = view.generator_class(urlconf=view.urlconf, api_version=api_version, patterns=view.patterns)
        _schemas[key] = generator.get_schema(request=None, public=view.serve_public)
    return _schemas[key]


def _render(renderer, data: dict) -> bytes:
    if isinstance(renderer, OpenApiJsonRenderer):
        # Compact JSON (drf-spectacular indents by 4: 2.4 times the bytes for a machine to parse).
        return JSONRenderer().render(data, "application/json", {})
    return renderer.render(data, renderer.media_type, {})


def rendered(view: CachedSchemaView, renderer, api_version: str | None, lang: str) -> RenderedSchema:
    """The schema as `renderer` writes it, built and rendered on the first call only."""
    key = (type(renderer), api_version, lang)
    found = _rendered.get(key)
    if found is not None:
        return found
    with _lock:  # threads of one process (gthread workers) build it once
        found = _rendered.get(key)
        if found is None:
            # Renderers of one format (application/yaml and application/vnd.oai.openapi) write
            # the same bytes: rendered once.
            body_key = (renderer.format, api_version, lang)
            if body_key not in _bodies:
                with translation.override(lang):  # lazy texts are translated as they are rendered
                    _bodies[body_key] = _render(renderer, _build(view, api_version, lang))
            body = _bodies[body_key]
            charset = getattr(renderer, "charset", None)
            content_type = f"{renderer.media_type}; charset={charset}" if charset else renderer.media_type
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            found = _rendered[key] = RenderedSchema(body, content_type, etag)
    return found


class CachedSchemaView(SpectacularAPIView):
    """OpenAPI 3 schema of this API, built once. YAML (application/vnd.oai.openapi) or JSON
    (application/vnd.oai.openapi+json, or ?format=json), chosen by content negotiation."""

    @extend_schema(**SCHEMA_KWARGS)
    def get(self, request, *args, **kwargs):
        api_version = self.api_version or version(request.GET.get("version"))
        schema = rendered(self, request.accepted_renderer, api_version, language(request.GET.get("lang")))
        response = HttpResponse(schema.body, content_type=schema.content_type)
        response["ETag"] = schema.etag
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, api_version)}"'
        patch_cache_control(response, public=True, no_cache=True)
        patch_vary_headers(response, ["Accept"])
        return get_conditional_response(request, etag=schema.etag, response=response)


def warm() -> dict:
    """Build the schema and render it in every format, for the default language."""
    view = CachedSchemaView()
    lang = language(None)
    sizes = {}
    for renderer_class in view.renderer_classes:
        schema = rendered(view, renderer_class(), None, lang)
        sizes[renderer_class.media_type] = len(schema.body)
    return sizes
