"""/ops/ on the platform's host: pages for platform superusers."""

from django.urls import path

from . import views

urlpatterns = [
    path("tasks/", views.tasks, name="ops-tasks"),
    path("tasks/<uuid:pk>/retry/", views.task_retry, name="ops-task-retry"),
]
