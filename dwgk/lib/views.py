"""Small pieces every screen app uses the same way."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def forbidden(request: HttpRequest, message: str, template: str) -> HttpResponse:
    """A refused right: the app's 403 page with the reason in Chinese."""
    return render(request, template, {"message": message}, status=403)


def first_error(form: forms.Form) -> str:
    """The first message of a form that did not validate, for the page's error box."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return "请检查填写的内容。"
