"""Share links (owner side) and the shared report, memo and sign-off (token side)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.quotas import client_address, too_many, wait_text
from assessments import limits
from assessments.access import EDITOR, get_assessment
from assessments.forms import ShareLinkForm, SignOffForm
from assessments.models import Assessment, ShareLink, SignOff
from assessments.services import evaluate_assessment
from assessments.sharing import (
    LinkGone,
    ShareLinkRefused,
    SignOffRefused,
    changed_stamp,
    create_share_link,
    dismiss_share_link,
    matching_sign_offs,
    record_sign_off,
    record_view,
    resolve_token,
    revoke_share_link,
    shown_by,
    undo_revoke,
    undo_window_text,
)
from assessments.views.memos import memo_response
from assessments.views.reports import member_report_context, report_context, share_panel_context

SHARED_HEADERS = {
    # No Referer leaves for another site, so the token in the URL stays here. Not
    # "no-referrer": under it a browser sends the sign-off form (a plain POST, JavaScript
    # off) with "Origin: null", which Django's CSRF check rightly refuses.
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}
TOO_MANY_GUESSES = (
    "Too many links from your network could not be found. Please try again in {wait}."
)


def through_share_link(
    view: Callable[[HttpRequest, str, ShareLink], HttpResponse],
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A page under /s/<token>/: the view gets the token's active link; an unknown, revoked
    or expired token gets a plain 404 (and a client guessing too many, 429). Every response,
    those included, keeps the token out of referrers, search engines and caches."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str) -> HttpResponse:
        link = _resolve(request, token)
        response = link if isinstance(link, HttpResponse) else view(request, token, link)
        for header, value in SHARED_HEADERS.items():
            response[header] = value
        return response

    return wrapper


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, "404.html", status=404)


def _resolve(request: HttpRequest, token: str) -> ShareLink | HttpResponse:
    """The active link, or the response to send instead: 404, or 429 while the client's
    address is over its quota of unknown tokens (then not even a good token is looked up,
    so guessing learns nothing)."""
    guesses, address = limits.share_token_guesses(), client_address(request)
    wait = guesses.retry_after(address)
    if wait:
        return too_many(request, wait, TOO_MANY_GUESSES)
    link = resolve_token(token)
    if link is None:
        guesses.record(address)
        return _not_found(request)
    return link


def _shared_page(
    request: HttpRequest, token: str, link: ShareLink, subject, *, status: int = 200, **panel
) -> HttpResponse:
    """The shared report of what the link shows, with the sign-off panel (`panel`: a bound
    form, an error)."""
    context = report_context(subject, mode="shared")
    context["pdf_url"] = reverse("shared_memo", args=[token])
    context["shared_snapshot"] = link.milestone
    context["shared_changed_at"] = subject.answers_changed_at or subject.created_at
    # The thanks is said in the panel the page opens at (#sign-off), not at its top.
    notes = list(messages.get_messages(request))
    context["messages"] = [note for note in notes if str(note) != THANKS]
    if not panel.get("notice") and len(context["messages"]) < len(notes):
        panel["notice"] = THANKS
    if "report_body" in context:
        context |= sign_off_context(token, link, subject, **panel)
    return render(request, "assessments/report.html", context, status=status)


def link_sign_offs(link: ShareLink, subject) -> list[SignOff]:
    """The responses given through this link to what it shows now (`subject`, shown_by):
    those to its snapshot, or for a link to the latest answers, those to milestones holding
    the answers now. Responses through other links are for their readers and the team."""
    if link.milestone is None:
        return [s for s in matching_sign_offs(subject) if s.share_link_id == link.pk]
    return list(link.sign_offs.order_by("created_at", "id"))


def sign_off_context(
    token: str,
    link: ShareLink,
    subject,
    *,
    form: SignOffForm | None = None,
    notice: str = "",
    error: str = "",
) -> dict:
    """The sign-off panel of a shared page: the form (for a link to the latest answers, with
    when the answers shown last changed) and the responses given through this link (those
    given through other links are for their readers and the team, not this link's)."""
    live = link.milestone is None
    if form is None:
        form = SignOffForm(initial={"seen": changed_stamp(subject) if live else ""})
    responses = link_sign_offs(link, subject)
    return {
        "sign_off_form": form,
        "sign_off_url": reverse("shared_respond", args=[token]),
        "sign_off_responses": responses,
        # Through a link to the latest answers: those given to answers it no longer shows.
        "sign_off_earlier": link.sign_offs.count() - len(responses) if live else 0,
        "sign_off_notice": notice,
        "sign_off_error": error,
    }


@require_safe
@through_share_link
def shared_report(request: HttpRequest, token: str, link: ShareLink) -> HttpResponse:
    if request.method == "GET":  # a HEAD (link previews, monitors) is not a reader
        record_view(link)
    return _shared_page(request, token, link, shown_by(link))


@require_safe
@through_share_link
def shared_memo(request: HttpRequest, token: str, link: ShareLink) -> HttpResponse:
    subject = shown_by(link)
    response = memo_response(request, subject, limits.address_key, link_sign_offs(link, subject))
    return response or _not_found(request)


TOO_MANY_RESPONSES = (
    "Too many responses were sent through this link from your network. Please try again in {wait}."
)
THANKS = "Thank you: your response is recorded. The project team sees it with the report."
NOTHING_TO_RESPOND_TO = "This report is not complete yet: there is nothing to respond to."


@require_POST
@through_share_link
def shared_respond(request: HttpRequest, token: str, link: ShareLink) -> HttpResponse:
    """A reader's sign-off (no account): recorded against what the link shows. Bad input is a
    422 naming the field, a page that no longer shows what the link shows a 409, too many
    responses from one address through one link a 429; none of them saves anything."""
    wait = limits.share_responses().take(limits.response_key(request, link.pk))
    if not wait:  # one address's refused tries do not use up the link's own quota
        wait = limits.link_responses().take(f"link:{link.pk}")
    subject = shown_by(link)
    if wait:
        response = too_many(request, wait, TOO_MANY_RESPONSES)
        if request.htmx:  # in place of the panel (static/js/app.js swaps it), keeping the text
            message = TOO_MANY_RESPONSES.format(wait=wait_text(wait))
            form = SignOffForm(request.POST)
            panel = sign_off_context(token, link, subject, form=form, error=message)
            response = _sign_off_panel(request, panel, status=429)
            response["Retry-After"] = str(wait)
        return response
    form = SignOffForm(request.POST)
    status, panel = 200, {}
    if not form.is_valid():
        status, panel = 422, {"form": form}
    elif evaluate_assessment(subject, include_flips=False).result is None:
        status, panel = 409, {"form": form, "error": NOTHING_TO_RESPOND_TO}
    else:
        try:
            record_sign_off(link, form.response(), seen=form.cleaned_data["seen"])
        except LinkGone:  # revoked since the lookup: as if it had never been found
            return _not_found(request)
        except SignOffRefused as refused:
            # The page shows the answers now: the reader may read them and send the same
            # response (kept in the form) again.
            subject = shown_by(link)
            data = request.POST.copy()
            data["seen"] = changed_stamp(subject)
            status, panel = 409, {"form": SignOffForm(data), "error": str(refused)}
            if request.htmx:
                # The whole page, not just the panel: the reader must see the answers that
                # the new stamp stands for before sending the response again.
                page = _shared_page(request, token, link, subject, status=status, **panel)
                page["HX-Retarget"], page["HX-Reselect"] = "#main", "#main"
                page["HX-Reswap"] = "outerHTML show:#sign-off:top"
                return page
    if status == 200 and not request.htmx:
        messages.success(request, THANKS)
        # Back at the panel (a long page: the thanks, or an error, must be in view).
        done = redirect(reverse("shared_report", args=[token]) + "#sign-off")
        done.status_code = 303  # See Other: reload shows the page, never posts again
        return done
    if request.htmx:
        if status == 200:
            panel = {"notice": THANKS}
        return _sign_off_panel(request, sign_off_context(token, link, subject, **panel), status)
    return _shared_page(request, token, link, subject, status=status, **panel)


def _sign_off_panel(request: HttpRequest, panel: dict, status: int = 200) -> HttpResponse:
    return render(request, "assessments/shared_signoff.html", panel, status=status)


@login_required
@require_POST
def share_create(request: HttpRequest, pk: int) -> HttpResponse:
    assessment = get_assessment(request.user, pk, EDITOR)
    form = ShareLinkForm(request.POST, milestones=assessment.milestones.all())
    new_url = None
    status = 200
    if form.is_valid():
        _, token = create_share_link(
            assessment,
            label=form.cleaned_data["label"],
            expires_in_days=form.expires_in_days(),
            milestone=form.milestone(),
            by=request.user,
        )
        # Shown once, now: only the token's hash is stored.
        new_url = request.build_absolute_uri(reverse("shared_report", args=[token]))
        form = None
    else:
        status = 422
    if request.htmx:
        panel = share_panel_context(assessment, share_form=form, new_share_url=new_url)
        return render(request, "assessments/report.html#share_panel", panel, status=status)
    context = member_report_context(assessment, share_form=form, new_share_url=new_url)
    return render(request, "assessments/report.html", context, status=status)


def _owned_link(request: HttpRequest, pk: int, share_pk: int) -> tuple[Assessment, ShareLink]:
    """The owner's assessment and one of its links; 404 for anyone else's, or a mismatch."""
    assessment = get_assessment(request.user, pk, EDITOR)
    return assessment, get_object_or_404(ShareLink, pk=share_pk, assessment=assessment)


def _panel(
    request: HttpRequest, assessment: Assessment, status: int = 200, **extra
) -> HttpResponse:
    panel = share_panel_context(assessment) | extra
    return render(request, "assessments/report.html#share_panel", panel, status=status)


def _back_to_panel(assessment: Assessment) -> HttpResponse:
    return redirect(reverse("report", args=[assessment.pk]) + "#share")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def share_revoke(request: HttpRequest, pk: int, share_pk: int) -> HttpResponse:
    """GET asks first (htmx: a confirm step in the panel, or with ?cancel the panel without
    it; else a confirmation page); POST revokes."""
    assessment, link = _owned_link(request, pk, share_pk)
    if request.method != "POST":
        if request.htmx:
            asking = None if "cancel" in request.GET else link.pk
            response = _panel(request, assessment, confirm_revoke=asking)
        elif not link.is_active():
            response = _back_to_panel(assessment)
        else:
            context = {"assessment": assessment, "link": link, "undo_window": undo_window_text()}
            response = render(request, "assessments/share_confirm_revoke.html", context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    revoke_share_link(link)
    notice = (
        f"Link “{link}” revoked: it now shows “not found”. "
        f"You can undo this for {undo_window_text()}."
    )
    return _done(request, assessment, notice)


def _done(
    request: HttpRequest, assessment: Assessment, notice: str, *, refused: bool = False
) -> HttpResponse:
    """After a change to a link: htmx gets the panel with the notice in place (409 when the
    change was refused), a plain form the report with the notice as a message."""
    if request.htmx:
        key = "share_error" if refused else "share_notice"
        return _panel(request, assessment, status=409 if refused else 200, **{key: notice})
    (messages.error if refused else messages.success)(request, notice)
    return _back_to_panel(assessment)


def _link_change(
    request: HttpRequest, pk: int, share_pk: int, change: Callable[[ShareLink], object], notice: str
) -> HttpResponse:
    """Apply `change` to one of the owner's links; a ShareLinkRefused changes nothing."""
    assessment, link = _owned_link(request, pk, share_pk)
    try:
        change(link)
    except ShareLinkRefused as refused:
        return _done(request, assessment, str(refused), refused=True)
    return _done(request, assessment, notice.format(link=link))


@login_required
@require_POST
def share_undo(request: HttpRequest, pk: int, share_pk: int) -> HttpResponse:
    notice = "Link “{link}” restored: the same link works again."
    return _link_change(request, pk, share_pk, undo_revoke, notice)


@login_required
@require_POST
def share_dismiss(request: HttpRequest, pk: int, share_pk: int) -> HttpResponse:
    notice = "Link “{link}” dismissed from the list."
    return _link_change(request, pk, share_pk, dismiss_share_link, notice)
