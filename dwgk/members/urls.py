from django.urls import path

from dwgk.members import views

app_name = "members"
urlpatterns = [path("", views.home, name="home")]
