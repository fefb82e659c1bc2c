from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.services import verdicts


@login_required
@require_GET
def verdict_page(request, project_id, verdict_id):
    page = verdicts.verdict_page(user=request.user, project_id=project_id, verdict_id=verdict_id)
    status = 200 if page.found else 404
    return render(
        request, "verdicts/page.html", {"page": page, "project": page.project}, status=status
    )
