"""Operators' endpoints: ``/healthz``, ``/metrics`` and the platform's tasks page."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tenancy.client_ip import client_ip

from .health import report
from .queue import TaskQueueCollector, queue_stats, uses_worker


def healthz(request: HttpRequest) -> JsonResponse:
    """Database, cache, push, task worker and queue: 200 unless the database is down (503)."""
    status, code = report()
    return JsonResponse(status, status=code)


def metrics_allowed(request: HttpRequest) -> bool:
    """A bearer ``METRICS_TOKEN``, or a client on loopback (as the trusted proxies report it:
    a proxy on the same machine cannot make the world loopback)."""
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(
        header[7:].strip().encode(), token.encode()
    ):
        return True
    try:
        return ipaddress.ip_address(client_ip(request)).is_loopback
    except ValueError:
        return False


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: every process's metrics (multiprocess mode under gunicorn)
    and the task queue read now."""
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    registry = CollectorRegistry()
    if settings.PROMETHEUS_MULTIPROC_DIR:
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queue = CollectorRegistry()
    queue.register(TaskQueueCollector())
    return HttpResponse(body + generate_latest(queue), content_type=CONTENT_TYPE_LATEST)


def _platform_superuser(request: HttpRequest) -> None:
    """The tasks page exists only for superusers on the platform's own host (404 elsewhere)."""
    account = getattr(request, "account", None)
    user = getattr(request, "user", None)
    if account is None or not account.is_default_account or user is None or not user.is_superuser:
        raise Http404("No such page.")


def tasks(request: HttpRequest) -> HttpResponse:
    """Queued, running and failed tasks; failed ones can be queued again."""
    _platform_superuser(request)
    state = request.GET.get("state", "failed")
    states = {"queued": TaskResultStatus.READY, "running": TaskResultStatus.RUNNING,
              "failed": TaskResultStatus.FAILED}
    if state not in states:
        state = "failed"
    results = DBTaskResult.objects.filter(status=states[state]).order_by("-enqueued_at").only(
        "id", "task_path", "status", "enqueued_at", "started_at", "finished_at",
        "exception_class_path", "queue_name", "worker_ids",
    )
    page = Paginator(results, 50).get_page(request.GET.get("page"))
    return render(request, "operations/tasks.html", {
        "stats": queue_stats(), "state": state, "states": list(states), "page": page,
        "uses_worker": uses_worker(),
    })


@require_POST
def task_retry(request: HttpRequest, pk: str) -> HttpResponse:
    """Queue a failed task again with the same arguments (a new task; the failure stays)."""
    _platform_superuser(request)
    failed = get_object_or_404(DBTaskResult, pk=pk, status=TaskResultStatus.FAILED)
    args = failed.args_kwargs or {}
    result = failed.task.enqueue(*args.get("args", []), **args.get("kwargs", {}))
    messages.success(request, f"{failed.task_path} queued again as {result.id}.")
    return redirect("ops-tasks")
