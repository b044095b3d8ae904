from rest_framework.routers import SimpleRouter

from apps.goals.api.views import GoalViewSet, NutritionTargetViewSet

router = SimpleRouter()
router.register("goals", GoalViewSet, basename="goal")
router.register("nutrition-targets", NutritionTargetViewSet, basename="nutrition-target")

urlpatterns = router.urls
