"""E-mail about the customers a person owns or covers (services/ownership.py).

A daily digest of new and soon-expiring pending actions, at the hour the person chose in
their time zone, and, for those who want it, an alert when one of their actions will expire
within MAIL_ALERT_HOURS and nobody here has acted on it (no decision, hold or undo was made
on it through the dashboard). Everything is read from the synced copy (the mirror), never
from Layers. The worker checks every MAIL_CHECK_SECONDS (dashboard/tasks.py); a unique
MailSent row is claimed before each e-mail, so several workers send it once. Subject lines
carry counts only: no customer names, no amounts."""

import datetime
import logging
import zoneinfo
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from dashboard.models import (
    DecisionHold,
    DecisionRecord,
    MailPreference,
    MailSent,
    MirrorAction,
    ProjectOwnership,
)
from dashboard.services.ownership import projects_owned_or_covered
from dashboard.wording import platform_name

log = logging.getLogger("dashboard.mail")
Mode = MailPreference.Mode
LISTED = 25  # items listed per customer and section; the rest are counted


def mail_preference_get(user) -> MailPreference:
    pref, _ = MailPreference.objects.get_or_create(
        user=user, defaults={"time_zone": settings.TIME_ZONE}
    )
    return pref


def mail_time_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones())


def mail_preference_set(*, user, mode: str, hour, time_zone: str, email: str) -> MailPreference:
    """Saves what the person chose; raises ValueError with a sentence when something is off."""
    if mode not in Mode.values:
        raise ValueError("Choose what e-mail you want.")
    try:
        hour = int(hour)
    except (TypeError, ValueError):
        hour = -1
    if not 0 <= hour <= 23:
        raise ValueError("Choose an hour of the day, 0 to 23.")
    if time_zone not in zoneinfo.available_timezones():
        raise ValueError("Choose a time zone from the list.")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValueError(f"“{email}” is not an e-mail address.") from None
    elif mode != Mode.OFF:
        raise ValueError("Give the e-mail address to send to.")
    pref = mail_preference_get(user)
    pref.mode, pref.hour, pref.time_zone = mode, hour, time_zone
    pref.save(update_fields=["mode", "hour", "time_zone", "updated_at"])
    if email != user.email:
        user.email = email
        user.save(update_fields=["email"])
    return pref


def mail_unsubscribe_find(token: str) -> MailPreference | None:
    if not token or len(token) > 64:
        return None
    return MailPreference.objects.select_related("user").filter(unsubscribe_token=token).first()


def mail_unsubscribe(token: str) -> MailPreference | None:
    """The link in every e-mail: no more e-mail for that person (no sign-in needed)."""
    pref = mail_unsubscribe_find(token)
    if pref is not None and pref.mode != Mode.OFF:
        pref.mode = Mode.OFF
        pref.save(update_fields=["mode", "updated_at"])
        log.info("%s unsubscribed from e-mail", pref.user.get_username())
    return pref


# --- What a digest says ------------------------------------------------------------------


@dataclass(frozen=True)
class MailItem:
    pending_id: str
    platform: str
    action_type: str
    entity_name: str
    created_at: datetime.datetime | None
    expires_at: datetime.datetime | None
    link: str


@dataclass
class MailCustomer:
    project_id: str
    name: str
    pending: int = 0
    new: list = field(default_factory=list)
    expiring: list = field(default_factory=list)
    new_count: int = 0
    expiring_count: int = 0


@dataclass(frozen=True)
class Digest:
    customers: list
    since: datetime.datetime
    new_count: int
    expiring_count: int
    subject: str


def action_link(project_id: str, platform: str, pending_id: str, campaign_id: str = "") -> str:
    """Where an e-mail's item opens: the action in the inbox, on a page of its own (its
    details and the approve / reject forms, with or without JavaScript)."""
    path = reverse("inbox-detail", args=[project_id, platform, pending_id])
    return f"{settings.DASHBOARD_BASE_URL}{path}#pa-{pending_id}"


def _item(action) -> MailItem:
    return MailItem(
        pending_id=action.pending_id,
        platform=platform_name(action.platform),
        action_type=(action.action_type or "").replace("_", " "),
        entity_name=action.entity_name or action.entity_id,
        created_at=action.created_at,
        expires_at=action.expires_at,
        link=action_link(
            action.project_id, action.platform, action.pending_id, action.campaign_id or ""
        ),
    )


FIELDS = (
    "pending_id",
    "project_id",
    "platform",
    "action_type",
    "entity_name",
    "entity_id",
    "campaign_id",
    "created_at",
    "expires_at",
)


def digest_build(user, *, now=None, since=None) -> Digest:
    """The digest for this person now: per customer they own or cover, the actions new
    since `since` (their last digest, or a day ago) and those expiring within the alert
    window. Three queries, whatever the number of customers or actions."""
    now = now or timezone.now()
    if since is None:
        last = MailSent.objects.filter(user=user, kind=MailSent.Kind.DIGEST).order_by("-sent_at")
        since = last.values_list("sent_at", flat=True).first() or now - timedelta(days=1)
    projects = projects_owned_or_covered(user, on=_local(now, user).date())
    soon = now + timedelta(hours=settings.MAIL_ALERT_HOURS)
    pending = MirrorAction.objects.pending().filter(project_id__in=projects)
    customers = {
        p["project_id"]: MailCustomer(
            p["project_id"], p["project__name"] or p["project_id"], pending=p["n"]
        )
        for p in pending.values("project_id", "project__name").annotate(n=Count("pk"))
    }
    wanted = pending.filter(Q(created_at__gt=since) | Q(expires_at__lte=soon, expires_at__gt=now))
    for action in wanted.only(*FIELDS).order_by("expires_at", "pending_id"):
        customer = customers[action.project_id]
        if action.created_at and action.created_at > since:
            customer.new_count += 1
            if len(customer.new) < LISTED:
                customer.new.append(_item(action))
        if action.expires_at and now < action.expires_at <= soon:
            customer.expiring_count += 1
            if len(customer.expiring) < LISTED:
                customer.expiring.append(_item(action))
    listed = sorted(
        (c for c in customers.values() if c.new_count or c.expiring_count),
        key=lambda c: (-c.expiring_count, c.name.lower()),
    )
    new = sum(c.new_count for c in listed)
    expiring = sum(c.expiring_count for c in listed)
    subject = (
        f"Layers digest: {new} new, {expiring} expiring within "
        f"{settings.MAIL_ALERT_HOURS} h, across {len(listed)} "
        f"customer{'' if len(listed) == 1 else 's'}"
    )
    return Digest(listed, since, new, expiring, subject)


def alert_candidates(user, *, now=None) -> list:
    """Actions of this person's customers expiring within the alert window on which nobody
    here has acted (decided, held or undone), not yet alerted to them."""
    now = now or timezone.now()
    projects = projects_owned_or_covered(user, on=_local(now, user).date())
    soon = now + timedelta(hours=settings.MAIL_ALERT_HOURS)
    actions = list(
        MirrorAction.objects.pending()
        .filter(project_id__in=projects, expires_at__gt=now, expires_at__lte=soon)
        .only(*FIELDS)
        .order_by("expires_at")
    )
    ids = [a.pending_id for a in actions]
    acted = set(
        DecisionRecord.objects.filter(entity_id__in=ids).values_list("entity_id", flat=True)
    ) | set(DecisionHold.objects.filter(pending_id__in=ids).values_list("pending_id", flat=True))
    alerted = set(
        MailSent.objects.filter(user=user, kind=MailSent.Kind.ALERT, period__in=ids).values_list(
            "period", flat=True
        )
    )
    return [a for a in actions if a.pending_id not in acted | alerted]


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local(now, user) -> datetime.datetime:
    pref = getattr(user, "mail_preference", None)  # None when the person has none yet
    return now.astimezone(_zone(pref.time_zone if pref else settings.TIME_ZONE))


# --- Sending -------------------------------------------------------------------------------


def _claim(user, kind: str, period: str) -> MailSent | None:
    try:
        with transaction.atomic():
            return MailSent.objects.create(user=user, kind=kind, period=period)
    except IntegrityError:
        return None  # another worker (or an earlier run) has it


def _send(user, pref, template: str, subject: str, context: dict) -> None:
    unsubscribe = settings.DASHBOARD_BASE_URL + reverse(
        "mail-unsubscribe", args=[pref.unsubscribe_token]
    )
    context = {
        **context,
        "person": user,
        "unsubscribe": unsubscribe,
        "settings_link": settings.DASHBOARD_BASE_URL + reverse("mail-settings"),
        "alert_hours": settings.MAIL_ALERT_HOURS,
        "zone": pref.time_zone,
    }
    with timezone.override(_zone(pref.time_zone)):  # dates in the person's time zone
        text = render_to_string(f"mail/{template}.txt", context)
        html = render_to_string(f"mail/{template}.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    message.send()


def digest_send(user, pref, *, now=None) -> bool:
    """Today's digest for this person, once (claimed first); False when already sent or
    there was nothing to say."""
    now = now or timezone.now()
    digest = digest_build(user, now=now)
    claim = _claim(user, MailSent.Kind.DIGEST, _local(now, user).date().isoformat())
    if claim is None:
        return False
    if not digest.customers:
        return False  # the day is claimed: nothing new, nothing expiring
    try:
        _send(user, pref, "digest", digest.subject, {"digest": digest})
    except Exception:
        claim.delete()  # not sent: the next check tries again
        raise
    return True


def alert_send(user, pref, *, now=None) -> int:
    """One e-mail for the actions newly about to expire unseen; each action once."""
    claimed = []
    for action in alert_candidates(user, now=now):
        claim = _claim(user, MailSent.Kind.ALERT, action.pending_id)
        if claim is not None:
            claimed.append((claim, _item(action)))
    if not claimed:
        return 0
    items = [item for _, item in claimed]
    subject = (
        f"Layers alert: {len(items)} action{'' if len(items) == 1 else 's'} expire within "
        f"{settings.MAIL_ALERT_HOURS} h with nobody having acted"
    )
    try:
        _send(user, pref, "alert", subject, {"items": items})
    except Exception:
        MailSent.objects.filter(id__in=[c.id for c, _ in claimed]).delete()
        raise
    return len(items)


def mail_due_run(*, now=None) -> dict:
    """The worker's check: every person who owns or covers a customer and has an address
    gets their digest once their hour has come (once a day) and their alerts."""
    now = now or timezone.now()
    owners = ProjectOwnership.objects.values_list("owner_id", "cover_id")
    ids = {i for pair in owners for i in pair if i}
    sent = {"digests": 0, "alerts": 0, "failed": 0}
    people = get_user_model().objects.filter(id__in=ids, is_active=True).exclude(email="")
    for user in people.select_related("mail_preference"):
        pref = mail_preference_get(user)
        user.mail_preference = pref
        if pref.mode == Mode.OFF:
            continue
        try:
            if _local(now, user).hour >= pref.hour:
                sent["digests"] += digest_send(user, pref, now=now)
            if pref.mode == Mode.DIGEST_ALERTS:
                sent["alerts"] += alert_send(user, pref, now=now)
        except Exception:  # one person's failure (SMTP down) must not stop the others
            log.exception("mail for %s failed", user.get_username())
            sent["failed"] += 1
    return sent


def mail_schedule(*, using: str = "default") -> bool:
    """Queues the next check unless one waits (database task queue only, as housekeeping)."""
    from dashboard.services.housekeeping import task_schedule_once
    from dashboard.tasks import mail_run

    return task_schedule_once(mail_run, settings.MAIL_CHECK_SECONDS, using=using)
