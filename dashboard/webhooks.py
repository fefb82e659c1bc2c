"""The receiver for Layers webhooks: POST /webhooks/layers.

Not session-authenticated and CSRF-exempt: the HMAC signature is the authentication. It
verifies, stores once per `X-Layers-Event-Id` and answers; the work happens after the
commit (dashboard/services/webhooks.py). A bad signature is refused and nothing is kept."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dashboard.services import webhooks


@csrf_exempt
@require_POST
def receive(request):
    receipt = webhooks.webhook_receive(raw_body=request.body, headers=request.headers)
    return JsonResponse(receipt.body, status=receipt.status)
