"""Creating a campaign: the form (a Django form, so every field says what is wrong in a
sentence and what was typed comes back), the create call, and Layers' own field errors
mapped back onto the form."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django import forms
from django.utils import timezone

from dashboard.layers import PLATFORMS, LayersError, ValidationFailed
from dashboard.money import (
    DEFAULT_LOCALE,
    cents_format,
    currency_label,
    money_example,
    money_locale,
    money_parse,
    money_words,
)
from dashboard.services import access
from dashboard.services.campaigns import platform_panels
from dashboard.services.jobs import job_remember_campaign
from dashboard.services.projects import (
    accounts_get,
    defaults_reader,
    project_get,
    project_locale,
    project_platforms,
)
from dashboard.services.upstream import fan_out, layers, project_cache_bump
from dashboard.services.writes import (
    Outcome,
    consent_note,
    decision_record,
    key_clean,
    new_key,
    outcome_record,
    refused,
    write_outcome,
)
from dashboard.wording import field_words

MODE_CHOICES = (
    ("manual", "You run it by hand: partners and the optimizer cannot change it (axes off)."),
    (
        "draft",
        "Every change is proposed and waits in the queue for a person to approve (axes draft).",
    ),
    ("autopilot", "Changes go straight to the platform without review (axes auto)."),
)
OUTCOME_CHOICES = (
    ("conversions", "Conversions: purchases or sign-ups"),
    ("traffic", "Traffic: visits to a website"),
    ("app_installs", "App installs"),
    ("engagement", "Engagement: likes, comments, shares"),
    ("lead_generation", "Leads: people leaving their details"),
)
END_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
# Layers' field names (contract §4.7) -> the form's.
UPSTREAM_FIELD = {
    "adAccountId": "ad_account",
    "name": "name",
    "outcome": "outcome",
    "dailyBudgetCents": "budget",
    "lifetimeBudgetCents": "budget",
    "campaignManagementMode": "campaign_management_mode",
    "creativeMode": "creative_mode",
    "endTime": "end_time",
    "startTime": "end_time",
    "bidStrategy": "outcome",
}


def _choice(sentence: str) -> dict:
    return {"required": sentence, "invalid_choice": sentence}


class CampaignCreateForm(forms.Form):
    """Field names are the page's; the page writes its own markup around them."""

    ad_account = forms.ChoiceField(
        error_messages=_choice("Choose one of the connected ad accounts.")
    )
    name = forms.CharField(
        max_length=128,
        error_messages={
            "required": "Give the campaign a name.",
            "max_length": "Keep the name to 128 characters or fewer.",
        },
    )
    outcome = forms.ChoiceField(
        choices=OUTCOME_CHOICES, error_messages=_choice("Choose what the campaign should achieve.")
    )
    budget_kind = forms.ChoiceField(
        choices=(("daily", "Daily"), ("lifetime", "Lifetime")),
        initial="daily",
        error_messages=_choice("Choose a daily or a lifetime budget."),
    )
    budget = forms.CharField(required=False)  # money as typed; minor units once clean
    campaign_management_mode = forms.ChoiceField(
        choices=MODE_CHOICES,
        initial="draft",
        error_messages=_choice("Choose manual, draft or autopilot."),
    )
    creative_mode = forms.ChoiceField(
        choices=MODE_CHOICES,
        initial="draft",
        error_messages=_choice("Choose manual, draft or autopilot."),
    )
    end_time = forms.CharField(required=False)  # a datetime-local input, read as UTC

    def __init__(self, data=None, *, accounts=(), locale=DEFAULT_LOCALE):
        if data is not None:  # what was typed comes back as it was kept: trimmed, at most 200
            data = {name: (data.get(name) or "").strip()[:200] for name in self.base_fields}
        super().__init__(data)
        self.locale = locale  # the project's: money is typed its way
        self.accounts = {a.ad_account_id: a for a in accounts}
        self.fields["ad_account"].choices = [(a.ad_account_id, a.name) for a in accounts]

    @property
    def platform(self) -> str:
        account = self.cleaned_data.get("ad_account")  # known once the form is cleaned
        return account.platform if account else ""

    def clean_ad_account(self):
        return self.accounts[self.cleaned_data["ad_account"]]

    def clean_budget(self) -> int:
        """Read in the chosen account's currency: a yen "5000" is 5000, a dollar one 500000."""
        text = self.cleaned_data["budget"]
        account = self.cleaned_data.get("ad_account")  # cleaned first: declared first
        if account is None:
            raise forms.ValidationError(
                "Choose the ad account first: the amount is read in its currency."
                if text
                else "Enter an amount, in the currency of the account you choose."
            )
        if not account.currency:
            raise forms.ValidationError("Layers did not say which currency this account uses.")
        try:
            return money_parse(text, account.currency, locale=self.locale)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_end_time(self) -> datetime | None:
        text = self.cleaned_data["end_time"]
        if not text:
            return None
        for pattern in END_TIME_FORMATS:
            try:
                end_time = datetime.strptime(text, pattern).replace(tzinfo=UTC)
                break
            except ValueError:
                continue
        else:
            raise forms.ValidationError(
                "Enter the end time as a date and time, for example 2026-12-31 18:00."
            )
        if end_time <= timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("The end time must be in the future.")
        return end_time

    def clean(self):
        data = super().clean()
        if (
            self.platform == "tiktok"
            and data.get("budget_kind") == "lifetime"
            and not self.data.get("end_time")
            and "end_time" not in self.errors
        ):
            self.add_error("end_time", "TikTok needs an end time for a lifetime budget.")
        return data

    def add_upstream_errors(self, error: ValidationFailed) -> None:
        """Layers' field errors on the fields they concern (one sentence per field)."""
        account = self.cleaned_data.get("ad_account")
        for name, message in error.fields.items():
            target = UPSTREAM_FIELD.get(name, "name")
            if account is not None:  # "at least 100 cents" said as money: "at least ¥100"
                message = money_words(message, account.currency, locale=self.locale)
            if target not in self.errors:
                self.add_error(target, f"Layers says: {field_words(name).lower()} {message}.")


@dataclass(frozen=True)
class CreatePage:
    project: object
    role: str
    accounts: tuple
    form: CampaignCreateForm
    outcome: Outcome | None = None
    key: str = field(default_factory=new_key)
    accounts_error: LayersError | None = None
    panels: tuple = ()
    modes: tuple = MODE_CHOICES
    outcomes: tuple = OUTCOME_CHOICES

    @property
    def locale(self) -> str:
        return money_locale(getattr(self.project, "primary_language", None))

    @property
    def account_choices(self):
        """(account, an amount one could type in its currency) for the account picker."""
        return [(a, money_example(a.currency, locale=self.locale)) for a in self.accounts]

    @property
    def budget_example(self) -> str:
        """The placeholder: an amount in the chosen account's currency (the first's before)."""
        chosen = next(
            (a for a in self.accounts if a.ad_account_id == self.form["ad_account"].value()),
            self.accounts[0] if self.accounts else None,
        )
        return money_example(getattr(chosen, "currency", None), locale=self.locale)

    @property
    def currency_hints(self):
        """("Japanese yen (¥)", "5,000") once for each currency of the accounts."""
        codes = dict.fromkeys(a.currency for a in self.accounts if a.currency)
        return [
            (currency_label(c, locale=self.locale), money_example(c, locale=self.locale))
            for c in codes
        ]


def _accounts(project_id) -> list:
    return [a for a in accounts_get(project_id) if a.platform in PLATFORMS]


def campaign_create_form(*, user, project_id: str, form=None, outcome=None, key=None) -> CreatePage:
    role = access.access_require(user=user, project_id=project_id, action="write")
    project = project_get(user=user, project_id=project_id)
    platforms = project_platforms(project)
    calls = {"accounts": lambda: _accounts(project_id)}
    for platform in platforms:
        calls[f"defaults:{platform}"] = defaults_reader(project_id, platform)
    results = fan_out(calls)
    accounts = results["accounts"]
    failed = isinstance(accounts, LayersError)
    return CreatePage(
        project=project,
        role=role,
        accounts=() if failed else tuple(accounts),
        form=form
        or CampaignCreateForm(
            accounts=() if failed else accounts, locale=project_locale(project_id)
        ),
        outcome=outcome,
        key=key or new_key(),
        accounts_error=accounts if failed else None,
        panels=platform_panels(project_id, platforms, results),
    )


def campaign_create(*, user, project_id: str, data, idempotency_key: str) -> CreatePage:
    """Validates with sentences, creates through Layers, and maps Layers' field errors onto
    the form; what was typed is always given back."""
    access.access_require(user=user, project_id=project_id, action="write")
    key = key_clean(idempotency_key)
    form = CampaignCreateForm(
        data, accounts=_accounts(project_id), locale=project_locale(project_id)
    )

    def again(outcome: Outcome, keep: str = key) -> CreatePage:
        return campaign_create_form(
            user=user, project_id=project_id, form=form, key=keep, outcome=outcome
        )

    if not form.is_valid():
        return again(Outcome("invalid", "Check the highlighted fields.", platform=form.platform))
    typed = form.cleaned_data
    account, platform, name = typed["ad_account"], form.platform, typed["name"]
    money = cents_format(typed["budget"], account.currency, locale=form.locale)
    record = decision_record(
        user=user,
        project_id=project_id,
        platform=platform,
        action="create",
        entity_id=f"new:{name[:70]}",
        key=key,
        note=f"{name} · {money} {typed['budget_kind']}",
        amount=typed["budget"],
        currency=account.currency,
    )
    budget = {f"{typed['budget_kind']}_budget_cents": typed["budget"]}
    try:
        result = layers().campaign_create(
            project_id=project_id,
            platform=platform,
            ad_account_id=account.ad_account_id,
            name=name,
            outcome=typed["outcome"],
            campaign_management_mode=typed["campaign_management_mode"],
            creative_mode=typed["creative_mode"],
            end_time=typed["end_time"],
            idempotency_key=key,
            **budget,
        )
    except ValidationFailed as error:
        form.add_upstream_errors(error)
        sentence = "Layers did not accept the campaign: check the highlighted fields."
        if not error.fields:  # no documented per-field details: Layers' own sentence
            text = (error.upstream_message or error.message)[:400]
            said = money_words(text, account.currency, locale=form.locale)
            sentence = f"Layers did not accept the campaign: {said}"
        return again(outcome_record(record, Outcome("invalid", sentence, platform=platform)))
    except LayersError as error:
        outcome = outcome_record(record, refused(error, project_id=project_id, platform=platform))
        return again(outcome, keep=key if outcome.kind == "error" else new_key())
    consent_note(project_id, platform, None)
    project_cache_bump(project_id)
    outcome = write_outcome(
        result,
        platform=platform,
        applied=f"Campaign “{name}” is being created.",
        queued=f"Creating “{name}” is queued for approval.",
    )
    if outcome.campaign_id:
        record.entity_id = outcome.campaign_id
        record.save(update_fields=["entity_id"])
        job_remember_campaign(
            project_id=project_id,
            job_id=outcome.job_id,
            campaign_id=outcome.campaign_id,
            platform=platform,
        )
    return campaign_create_form(
        user=user, project_id=project_id, outcome=outcome_record(record, outcome)
    )
