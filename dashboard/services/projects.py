"""Projects: the picker and the overview page."""

from dataclasses import dataclass, field

from django.conf import settings

from dashboard.layers import PLATFORMS, LayersError
from dashboard.money import DEFAULT_LOCALE, money_locale
from dashboard.services import access
from dashboard.services.upstream import cached_read, fan_out, layers
from dashboard.services.writes import consent_missing

ORG_CACHE = "__org__"
# What each scope lets a person do here, in the words of the overview page.
CAPABILITIES = (
    ("Read campaigns, the queue and the audit log", "ads:read"),
    ("Approve and reject pending actions", "ads:write:pending"),
    ("Change authority and layer defaults", "ads:write:policy"),
    ("Create campaigns", "ads:write:campaigns"),
    ("Change budgets", "ads:write:budgets"),
    ("Pause, resume and delete campaigns", "ads:write:lifecycle"),
    ("Run the optimizer", "ads:write:optimizer_trigger"),
    ("Connect ad accounts", "ads:write:connect"),
)
MAX_PROJECT_PAGES = 20


@dataclass(frozen=True)
class PlatformState:
    platform: str
    accounts: tuple = ()
    defaults: object = None  # LayerDefaults, or None when the read failed
    pending_count: int | None = None
    error: LayersError | None = None
    # The customer's consent to partner writes (contract §2.5: no documented field): True,
    # False, or None = not known. See platform_consent.
    consented: bool | None = None
    consent_source: str = ""  # layers (the sandbox's field) | refusal | audit | ""


@dataclass(frozen=True)
class Overview:
    project: object
    role: str
    whoami: object
    platforms: tuple[PlatformState, ...]
    campaign_count: int | None
    recent_verdicts: tuple = ()
    errors: tuple[LayersError, ...] = field(default=())

    @property
    def capabilities(self) -> list[tuple[str, str, bool]]:
        """(label, scope, allowed) for each thing the key may or may not do."""
        if self.whoami is None:
            return []
        return [(label, scope, self.whoami.has_scope(scope)) for label, scope in CAPABILITIES]

    @property
    def pending_total(self) -> int:
        return sum(p.pending_count or 0 for p in self.platforms)


def whoami_get():
    """The key's identity and scopes, shared by everyone; they change rarely."""
    return cached_read(
        ORG_CACHE, "whoami", lambda: layers().whoami(), ttl=settings.LAYERS_PROJECT_CACHE_SECONDS
    )


def accounts_get(project_id: str) -> list:
    """The project's connected ad accounts. They change rarely and only through a connection,
    which bumps the project's cache, so they are kept as long as the project record."""
    return cached_read(
        project_id,
        "accounts",
        lambda: layers().ad_accounts_list(project_id=project_id),
        ttl=settings.LAYERS_PROJECT_CACHE_SECONDS,
    )


def campaigns_get(project_id: str) -> list:
    """Every campaign of the project, on every platform (one shared read per cache window)."""

    def fetch():
        client = layers()
        return list(
            client.iter_pages(client.campaigns_list, project_id=project_id, limit=200, max_pages=20)
        )

    return cached_read(project_id, "campaigns", fetch)


def project_list(*, user) -> list:
    """The projects this person may see, in name order."""

    def fetch_all():
        client = layers()
        return list(client.iter_pages(client.projects_list, max_pages=MAX_PROJECT_PAGES))

    projects = cached_read(ORG_CACHE, "projects", fetch_all)
    visible = access.project_ids_visible(user=user)
    chosen = [p for p in projects if visible is None or p.id in visible]
    return sorted(chosen, key=lambda p: p.name.lower())


def project_get(*, user, project_id: str):
    access.access_require(user=user, project_id=project_id)
    return _project_read(project_id)


def _project_read(project_id: str):
    # A project's name and layers rarely change and none of our writes touch them: kept
    # longer than the lists, and outside the project's write generation, so a page can
    # start its fan-out without waiting for it.
    return cached_read(
        ORG_CACHE,
        f"project:{project_id}",
        lambda: layers().project_get(project_id=project_id),
        ttl=settings.LAYERS_PROJECT_CACHE_SECONDS,
    )


def project_locale(project_id: str) -> str:
    """The locale the project's money is shown and typed in: its primaryLanguage, or "en"
    when that is unknown or Layers cannot say. For callers that checked access already."""
    try:
        return money_locale(_project_read(project_id).primary_language)
    except LayersError:
        return DEFAULT_LOCALE


def project_platforms(project) -> list[str]:
    """The ad platforms the project has a layer for, in our usual order."""
    present = {layer.platform for layer in project.layers}
    return [p for p in PLATFORMS if p in present] or list(PLATFORMS)


def project_overview(*, user, project_id: str) -> Overview:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    calls = {
        "whoami": whoami_get,
        "accounts": lambda: accounts_get(project_id),
        "campaigns": lambda: len(campaigns_get(project_id)),
        "audit": lambda: cached_read(
            project_id,
            "recent-audit",
            lambda: layers().audit_log_list(project_id=project_id, limit=50),
        ),
    }
    for platform in platforms:
        calls[f"defaults:{platform}"] = defaults_reader(project_id, platform)
        calls[f"pending:{platform}"] = pending_count_reader(project_id, platform)
    results = fan_out(calls)

    errors = [r for r in results.values() if isinstance(r, LayersError)]
    accounts = results["accounts"] if not isinstance(results["accounts"], LayersError) else []
    states = []
    for platform in platforms:
        defaults, count = results[f"defaults:{platform}"], results[f"pending:{platform}"]
        error = next((r for r in (defaults, count) if isinstance(r, LayersError)), None)
        defaults = None if isinstance(defaults, LayersError) else defaults
        consented, source = platform_consent(project_id, platform, defaults, results["audit"])
        states.append(
            PlatformState(
                platform=platform,
                accounts=tuple(a for a in accounts if a.platform == platform),
                defaults=defaults,
                pending_count=None if isinstance(count, LayersError) else count,
                error=error,
                consented=consented,
                consent_source=source,
            )
        )
    audit = results["audit"]
    verdicts = (
        () if isinstance(audit, LayersError) else tuple(e for e in audit.items if e.verdict_id)[:8]
    )
    campaigns = results["campaigns"]
    whoami = results["whoami"]
    return Overview(
        project=project,
        role=role,
        whoami=None if isinstance(whoami, LayersError) else whoami,
        platforms=tuple(states),
        campaign_count=None if isinstance(campaigns, LayersError) else campaigns,
        recent_verdicts=verdicts,
        errors=tuple(dict.fromkeys(errors)),
    )


# Partner writes whose audit row proves the gate checked consent and let them past it
# (contract §2.6: consent is step 6, after the kill switch, before the axis and guardrails).
PAST_CONSENT = ("ads.write.dispatched", "ads.write.queued")


def platform_consent(project_id: str, platform: str, defaults, audit) -> tuple:
    """(consented, where that comes from). The contract documents no field for it (§2.5);
    the sandbox's `partnerWritesConsented` (an extension) is used when present. Without
    it, from what is documented: a refusal for `partner_consent_missing` the dashboard met
    (writes.consent_note), then the latest partner write on the platform in the recent
    audit rows (§7.2): refused for consent = not given; past the consent step = given."""
    said = getattr(defaults, "partner_writes_consented", None)
    if said is not None:
        return said, "layers"
    if consent_missing(project_id, platform):
        return False, "refusal"
    events = () if isinstance(audit, LayersError) or audit is None else audit.items
    for event in events:  # newest first
        if event.platform != platform or (event.actor_type or "") != "partner":
            continue
        if event.event_type in PAST_CONSENT:
            return True, "audit"
        if event.event_type == "ads.write.denied":
            if event.reason == "partner_consent_missing":
                return False, "audit"
            if event.reason != "kill_switch_active":  # the gate got past consent
                return True, "audit"
    return None, ""


def defaults_reader(project_id: str, platform: str):
    """A platform layer's defaults and kill switch, as a shared cached read (for fan_out)."""
    return lambda: cached_read(
        project_id,
        f"defaults:{platform}",
        lambda: layers().defaults_get(project_id=project_id, platform=platform),
    )


def pending_count_reader(project_id: str, platform: str):
    """A platform's pending-action count, as a shared cached read (for fan_out)."""
    return lambda: cached_read(
        project_id,
        f"pending-count:{platform}",
        lambda: layers().pending_count(project_id=project_id, platform=platform),
    )
