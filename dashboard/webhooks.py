"""The receiver for Layers webhooks: POST /webhooks/layers.

Not session-authenticated and CSRF-exempt: the HMAC signature is the authentication. It
verifies, stores once per event id — the signed body's `id`, never the unsigned
`X-Layers-Event-Id` header, which must agree with it — queues a task and answers; the work happens
in the task worker (dashboard/services/webhook_inbox.py, dashboard/tasks.py). A bad
signature is refused and nothing is kept."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard import metrics
from dashboard.services import webhook_inbox


@csrf_exempt
@require_POST
def receive(request):
    receipt = webhook_inbox.webhook_receive(raw_body=request.body, headers=request.headers)
    metrics.webhook_delivery_count(receipt.status)
    return JsonResponse(receipt.body, status=receipt.status)
