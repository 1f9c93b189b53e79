"""The case statistics an oversight or monitoring role gets: no hidden cell of a partition
(statuses, age groups) can be found again as the shown total minus the shown cells."""

from __future__ import annotations

from api_support import Api


def test_statistics_hide_no_cell_that_subtraction_would_reveal(api: Api) -> None:
    for user in ("unhcr.im-officer", "ngo-a.im-officer"):
        res = api.client.get("/api/cases/statistics", headers=api.headers(user))
        assert res.status_code == 200, res.text
        body = res.json()
        total = body["total"]
        assert total is not None  # the demo's organisations hold enough cases to show it
        for part in ("by_status", "by_age_group"):
            counts = [c["count"] for c in body[part]]
            hidden = counts.count(None)
            assert hidden != 1, (user, part, body[part])
            if hidden == 0:
                assert sum(counts) == total, (user, part)
            else:
                assert total - sum(c for c in counts if c is not None) >= body["suppressed_below"]
