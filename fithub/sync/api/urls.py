from django.urls import path

from fithub.sync.api.views import ChangesView

urlpatterns = [path("sync/changes/", ChangesView.as_view(), name="sync-changes")]
