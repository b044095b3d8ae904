from rest_framework.routers import SimpleRouter

from apps.nutrition.api import views

router = SimpleRouter()
router.register("foods", views.FoodViewSet, basename="foods")
router.register("food-preferences", views.FoodPreferenceViewSet, basename="food-preferences")
router.register("meals", views.MealViewSet, basename="meals")
router.register("diary", views.DiaryEntryViewSet, basename="diary")
router.register("nutrition-targets", views.NutritionTargetViewSet, basename="nutrition-target")
router.register("water", views.WaterEntryViewSet, basename="water")

urlpatterns = router.urls
