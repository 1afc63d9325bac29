from __future__ import annotations

from django.urls import path

from dwgk.feedback import views

app_name = "feedback"

urlpatterns = [
    path("item/<int:item_pk>/", views.submit, name="submit"),
    path("org/<int:org_pk>/", views.org_inbox, name="org"),
    path("org/<int:org_pk>/record/", views.record, name="record"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/reply/", views.reply, name="reply"),
    path("<int:pk>/tell/", views.tell, name="tell"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/unpublish/", views.unpublish, name="unpublish"),
]
