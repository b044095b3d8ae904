from rest_framework.routers import SimpleRouter

from apps.goals.api.views import GoalViewSet

router = SimpleRouter()
router.register("goals", GoalViewSet, basename="goal")

urlpatterns = router.urls
