"""Forms of the feedback screens, and the form-side spam protection for opinions.

The forms only turn what people type and pick into the values `feedback.actions` takes:
the length of an opinion, who may be assigned, what may be published are the actions'
rules, so an error reads the same from a screen, a command or the API.

Spam protection works without JavaScript and without any outside service:
- a honeypot field that people never see (hidden by the style sheet) and bots fill in;
  `actions.opinion_submit` refuses it without saying why;
- a signed timestamp (`django.core.signing`) issued with the form: a post that comes back
  faster than a person can type (FEEDBACK_MIN_FILL_SECONDS), or with a token that is
  forged, for another item or too old (FEEDBACK_FORM_MAX_AGE), is refused before the
  action runs, so it does not count against the rate limit;
- the rate limits of `feedback.ratelimit`, counted by the action.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing

from dwgk.accounts.models import User
from dwgk.disclosures.models import Disclosure
from dwgk.feedback.models import TEXT_MAX, Opinion

# A person needs a few seconds to read the item and type an opinion; a script does not.
DEFAULT_MIN_FILL_SECONDS = 3
# A form kept open longer than this gets a fresh token (the text typed is kept).
DEFAULT_FORM_MAX_AGE = 24 * 3600
TOKEN_SALT = "dwgk.feedback.opinion-form"
# The honeypot's name: a field a form-filling bot likes, and browsers do not autofill
# into a field with autocomplete off.
HONEYPOT = "homepage"


def min_fill_seconds() -> int:
    """How long a person takes at least to fill in the opinion form."""
    seconds: int = getattr(settings, "FEEDBACK_MIN_FILL_SECONDS", DEFAULT_MIN_FILL_SECONDS)
    return seconds


def form_max_age() -> int:
    """How long an opinion form's token stays good."""
    seconds: int = getattr(settings, "FEEDBACK_FORM_MAX_AGE", DEFAULT_FORM_MAX_AGE)
    return seconds


def issue_token(item_pk: int, now: float | None = None) -> str:
    """The signed timestamp the opinion form carries: which item, issued when."""
    issued = int(time.time() if now is None else now)
    return signing.dumps({"item": item_pk, "t": issued}, salt=TOKEN_SALT)


def renew_token(token: str) -> str:
    """A fresh token for the same item as `token` (a cached page's form, served anew)."""
    try:
        item_pk = int(signing.loads(token, salt=TOKEN_SALT)["item"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return ""
    return issue_token(item_pk)


def token_problem(token: str, item_pk: int, now: float | None = None) -> tuple[str, bool]:
    """Why a posted form's token is refused ("" when it is fine), and whether the form
    needs a fresh token to be sent again (a token that only came back too fast is kept:
    by the time the person sends it again, it is old enough)."""
    now = time.time() if now is None else now
    try:
        payload = signing.loads(token or "", salt=TOKEN_SALT)
        issued = int(payload["t"])
        ok = int(payload["item"]) == item_pk
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        ok, issued = False, 0
    if not ok:
        return "表单已失效，请重新提交。您填写的内容已保留。", True
    age = now - issued
    if age > form_max_age():
        return "页面打开时间过长，表单已过期，请重新提交。您填写的内容已保留。", True
    if age < min_fill_seconds():
        return "提交过快，请确认意见内容后稍候几秒再提交。", False
    return "", False


def _textarea(rows: int, max_length: int | None = None) -> forms.Textarea:
    attrs: dict[str, Any] = {"rows": rows}
    if max_length:
        attrs["maxlength"] = max_length
    return forms.Textarea(attrs=attrs)


def _one_line_breaks(value: str) -> str:
    # Browsers send CRLF; the stored text uses LF (and the duplicate check compares it).
    return value.replace("\r\n", "\n").replace("\r", "\n")


class OpinionForm(forms.Form):
    """网络留言 on an item: the text, named or anonymous (for signed-in people), the
    honeypot and the signed timestamp."""

    text = forms.CharField(
        label="意见内容",
        widget=_textarea(5, TEXT_MAX),
        required=False,
        strip=False,
        help_text="5至2000字。请勿填写身份证号码、电话号码等个人信息。",
    )
    named = forms.TypedChoiceField(
        label="反映方式",
        choices=[
            ("1", "署名反映：办理结果通知我，可在“我的意见”中查看"),
            ("0", "匿名反映：不留姓名，也不会收到办理结果"),
        ],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        initial="1",
        error_messages={"required": "请选择署名反映或匿名反映。"},
    )
    homepage = forms.CharField(
        label="个人网址（请勿填写此项）",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, item: Disclosure, user: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "feedback-%s")
        super().__init__(*args, **kwargs)
        self.item = item
        self.fields["token"].initial = issue_token(item.pk)
        if not getattr(user, "is_authenticated", False):
            # A visitor cannot sign: the opinion is anonymous.
            del self.fields["named"]

    def clean_text(self) -> str:
        return _one_line_breaks(self.cleaned_data.get("text") or "")

    @property
    def is_named(self) -> bool:
        return bool(self.cleaned_data.get("named", False))


class ItemChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title}（{obj.index_no}）" if obj.index_no else str(obj.title)


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name or obj.username)


class RecordForm(forms.Form):
    """The clerk records an opinion that came by hotline, letter, opinion box or meeting."""

    item = ItemChoiceField(
        label="所涉公开事项",
        queryset=Disclosure.objects.none(),
        empty_label="请选择",
        error_messages={
            "required": "请选择意见所涉的公开事项。",
            "invalid_choice": "请选择本组织已公开、可以登记意见的事项。",
        },
    )
    channel = forms.ChoiceField(
        label="收集渠道",
        choices=[("", "请选择")] + [c for c in Opinion.Channel.choices if c[0] != "platform"],
        required=False,
    )
    text = forms.CharField(
        label="意见内容", widget=_textarea(5, TEXT_MAX), required=False, strip=False
    )
    submitter_name = forms.CharField(
        label="反映人姓名",
        max_length=60,
        required=False,
        help_text="署名反映的填写姓名和联系方式，以便告知处理结果；匿名反映的不填。",
    )
    contact = forms.CharField(label="联系方式", max_length=120, required=False)

    def __init__(self, *args: Any, items: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "record-%s")
        super().__init__(*args, **kwargs)
        field = self.fields["item"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = items

    def clean_text(self) -> str:
        return _one_line_breaks(self.cleaned_data.get("text") or "")


class AssignForm(forms.Form):
    """Hand the opinion to a colleague among the organization's disclosure staff."""

    assignee = PersonChoiceField(
        label="承办人",
        queryset=User.objects.none(),
        empty_label="请选择",
        error_messages={
            "required": "请选择承办人。",
            "invalid_choice": "承办人须为本组织的党务公开工作人员。",
        },
    )

    def __init__(self, *args: Any, colleagues: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "assign-%s")
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = colleagues


class TextForm(forms.Form):
    """One text: the reply, the reason for refusing, how the submitter was told, the reply
    as published."""

    text = forms.CharField(widget=_textarea(3), required=False, strip=False)

    def __init__(self, *args: Any, label: str, key: str, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{key}-%s")
        super().__init__(*args, **kwargs)
        self.fields["text"].label = label

    def clean_text(self) -> str:
        return _one_line_breaks(self.cleaned_data.get("text") or "")
