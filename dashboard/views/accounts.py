from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from dashboard.services import UpstreamError, accounts


def _callback_url(request, project_id):
    return request.build_absolute_uri(reverse("accounts-callback", args=[project_id]))


def _popup_response(request, context, status=200):
    # The popup must keep its opener to post the result back; the rest of the site keeps
    # the default same-origin opener policy.
    response = render(request, "accounts/popup_done.html", context, status=status)
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    response["Referrer-Policy"] = "no-referrer"  # the state is in this URL
    return response


@login_required
@require_GET
def accounts_page(request, project_id):
    page = accounts.account_list(
        user=request.user, project_id=project_id, highlight=request.GET.get("connected", "")[:80]
    )
    note = accounts.connect_result_sentence(
        code=request.GET.get("result", ""), platform=request.GET.get("platform", "")
    )
    return render(
        request, "accounts/list.html", {"page": page, "project": page.project, "note": note}
    )


@login_required
@require_POST
def connect_start(request, project_id):
    platform = request.POST.get("platform", "")
    try:
        url = accounts.account_connect_start(
            user=request.user,
            project_id=project_id,
            platform=platform,
            callback_url=_callback_url(request, project_id),
            idempotency_key=request.POST.get("idempotency_key", ""),
        )
    except ValueError as error:
        messages.error(request, str(error))
        return redirect("accounts", project_id)
    except UpstreamError as error:
        messages.error(request, accounts.connect_refusal(error, platform))
        return redirect("accounts", project_id)
    return redirect(url)  # the platform's consent page (the sandbox's, in the demo)


@never_cache
@require_GET
def connect_popup(request, project_id):
    """The popup's first step (embed mode): no session here, the signed token stands in."""
    platform = request.GET.get("platform", "")
    try:
        url = accounts.account_connect_go(
            token=request.GET.get("t", ""),
            project_id=project_id,
            platform=platform,
            callback_url=_callback_url(request, project_id),
        )
    except PermissionDenied as error:
        return _popup_response(
            request, {"ok": False, "code": "refused", "sentence": str(error)}, status=403
        )
    except ValueError as error:
        return _popup_response(
            request, {"ok": False, "code": "refused", "sentence": str(error)}, status=400
        )
    except UpstreamError as error:
        return _popup_response(
            request,
            {
                "ok": False,
                "code": "upstream",
                "sentence": accounts.connect_refusal(error, platform),
            },
            status=502,
        )
    response = redirect(url)
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def connect_callback(request, project_id):
    """Where the platform's consent page sends the person back. Never a traceback: every
    outcome (connected, denied, expired, forged / reused / missing state) is a sentence."""
    result = accounts.account_connect_finish(
        user=request.user, query=request.GET, project_id=project_id
    )
    if result.popup:
        return _popup_response(
            request,
            {"result": result, "ok": result.ok, "code": result.code, "sentence": result.sentence},
            status=200 if result.platform else 400,
        )
    if result.platform and request.user.is_authenticated:
        (messages.success if result.ok else messages.error)(request, result.sentence)
        query = f"?connected={result.account_id}" if result.ok else ""
        return redirect(reverse("accounts", args=[project_id]) + query)
    response = render(
        request,
        "accounts/callback.html",
        {"result": result, "project_id": project_id},
        status=200 if result.platform else 400,
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@require_GET
def connect_status(request, project_id):
    """Polled by the iframe while the popup is open, for when the popup cannot reach us."""
    found = accounts.connect_status(
        user=request.user, project_id=project_id, go_token=request.GET.get("t", "")
    )
    if found is None:
        return JsonResponse({"done": False})
    url = reverse("accounts", args=[project_id])
    url += (
        f"?connected={found.account_id}"
        if found.ok
        else f"?result={found.code}&platform={found.platform}"
    )
    return JsonResponse({"done": True, "next": url})
