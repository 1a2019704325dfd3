"""/healthz: 200 while the database answers, 503 when it does not."""

from unittest import mock

import pytest
from django.db import DatabaseError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_the_database_answers(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_is_503_when_the_database_is_unreachable(client):
    with mock.patch("assessments.views.health.connection.cursor", side_effect=DatabaseError):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
