"""The trivial view every server under test serves."""

from django.http import HttpResponse
from django.urls import path


def hello(request):  # noqa: ARG001
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("", hello), path("hello/", hello)]
