from __future__ import annotations

from django.urls import path

from dwgk.disclosures import views, views_archive

app_name = "disclosures"

urlpatterns = [
    path("org/<int:org_pk>/", views.org_list, name="org"),
    path("org/<int:org_pk>/new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/revisions/<int:number>/", views.revision, name="revision"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:att_pk>/", views.attachment_download, name="attachment"),
    path(
        "<int:pk>/attachments/<int:att_pk>/remove/",
        views.attachment_remove,
        name="attachment_remove",
    ),
    path(
        "<int:pk>/attachments/<int:att_pk>/withhold/",
        views.attachment_withhold,
        name="withhold",
    ),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/review/start/", views.start_review, name="start_review"),
    path("<int:pk>/review/redact/", views.redact, name="redact"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/referral/", views.referral_answer, name="referral_answer"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/return/", views.send_back, name="return"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/schedule/", views.schedule, name="schedule"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/delay/", views.delay, name="delay"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/correct/", views.correct, name="correct"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/archive/", views.archive, name="archive"),
    path("<int:pk>/scope/", views.widen_propose, name="widen"),
    path("<int:pk>/scope/decide/", views.widen_decide, name="widen_decide"),
    path("<int:pk>/catalog-update/", views.catalog_update, name="catalog_update"),
    path("<int:pk>/archive.zip", views_archive.export, name="archive_export"),
]
