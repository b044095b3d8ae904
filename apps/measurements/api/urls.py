from rest_framework.routers import SimpleRouter

from apps.measurements.api.views import MeasurementTypeViewSet, MeasurementViewSet

router = SimpleRouter()
router.register("measurement-types", MeasurementTypeViewSet, basename="measurement-type")
router.register("measurements", MeasurementViewSet, basename="measurement")

urlpatterns = router.urls
