"""The Projects page, from the mirror: each customer this person may see (the projects the
sync engine discovered, narrowed by the same grants as everywhere else), its owner and
cover, its pending count, how many expire within 24 h and how fresh its copy is, the most
urgent first. A page view reads no list from Layers.

Cold start: until the mirror has discovered the key's projects even once (a fresh install,
before the worker's first tick), the page would be empty, which reads as "you have no
customers". So the first view makes that ONE discovery itself, through the sync engine's
path (its client, its read ledger and budget, its back-off), and shows the customers with
"Pending counts: not synced yet" until the engine's first pass reads their lists. While
the engine backs off, is out of budget or has just tried, the page says the first sync is
under way instead of reading; when the read fails, the page says why."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from dashboard.layers import LayersError
from dashboard.models import MirrorProject, SyncFeed
from dashboard.services import access
from dashboard.services.inbox_sync import projects_urgency
from dashboard.services.mirror import mirror_projects_refresh
from dashboard.services.ownership import project_cards
from dashboard.services.sync import budget
from dashboard.services.sync.tick import DISCOVERY


@dataclass(frozen=True)
class ProjectsPage:
    cards: tuple  # (ProjectCard, CustomerLine), the most urgent first
    unowned: int
    first_sync: str = ""  # before the first discovery: what is going on, in a sentence


def projects_discovered() -> bool:
    """Whether the mirror has ever listed the key's projects (a webhook's stub does not
    count: it has no name and was never seen in GET /v1/projects)."""
    return MirrorProject.objects.filter(seen_at__isnull=False).exists()


def projects_first_discovery(*, now=None) -> str:
    """The cold start's one read of GET /v1/projects, through the sync engine's path.
    Only one page view (or tick) claims it per SYNC_DISCOVERY_SECONDS, never while the
    engine backs off or has no reads left. Answers "" when it read the projects, else a
    sentence for the page."""
    now = now or timezone.now()
    if budget.backoff_until(now) is not None or budget.reads_left(now) <= 0:
        return (
            "The first sync with Layers is under way (it is waiting for the key's read "
            "budget); your customers appear here as soon as it lists them."
        )
    SyncFeed.objects.get_or_create(name=DISCOVERY)
    recent = now - timedelta(seconds=settings.SYNC_DISCOVERY_SECONDS)
    claimed = (
        SyncFeed.objects.filter(name=DISCOVERY)
        .filter(Q(read_at__isnull=True) | Q(read_at__lt=recent))
        .update(read_at=now)
    )
    if not claimed:  # the engine (or another page view) has just read, or is reading
        return (
            "The first sync with Layers is under way; your customers appear here as soon "
            "as it lists them."
        )
    try:
        mirror_projects_refresh(now=now, details=False)
    except LayersError as error:
        budget.backoff_note(error, now)
        SyncFeed.objects.filter(name=DISCOVERY).update(last_error=error.message[:1000])
        return (
            f"Your customers could not be listed from Layers yet: {error.message} "
            "The sync engine tries again on its own; this page shows them once it succeeds."
        )
    SyncFeed.objects.filter(name=DISCOVERY).update(last_error="")
    return ""


def projects_page_get(*, user) -> ProjectsPage:
    """Every customer this person may see, from the mirror, the most urgent first."""
    first_sync = "" if projects_discovered() else projects_first_discovery()
    visible = access.project_ids_visible(user=user)
    projects = MirrorProject.objects.filter(seen_at__isnull=False)
    if visible is not None:
        projects = projects.filter(project_id__in=list(visible))
    by_id = {p.project_id: p for p in projects}
    lines = [line for line in projects_urgency(user=user) if line.project_id in by_id]
    cards = project_cards(user=user, projects=[by_id[line.project_id] for line in lines])
    return ProjectsPage(
        cards=tuple(zip(cards, lines, strict=True)),
        unowned=sum(1 for card in cards if card.owners.owner is None),
        first_sync=first_sync,
    )
