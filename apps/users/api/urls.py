from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.users.api import views

router = SimpleRouter()
router.register("auth/sessions", views.SessionViewSet, basename="auth-session")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.LoginView.as_view(), name="auth-token"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    *router.urls,
    path("users/me/", views.MeView.as_view(), name="users-me"),
    path("users/me/password/", views.PasswordChangeView.as_view(), name="users-me-password"),
    path("users/me/export/", views.ExportView.as_view(), name="users-me-export"),
]
