"""Who may change which routing rules, who may be assigned a lead, and names in configurations
(blank ones refused on input, yet stored ones still load)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx

from leads.app import configs
from leads.domain.routing import RoutingRules, Team, Territory, teams_touched
from leads.reference import nace_table
from leads.tables import ConfigRow
from salesflow.testing.helpers import bearer

from .conftest import ADMIN, MARKETING
from .test_leads_journey import MANAGER, SCORING, company_and_scoring, touch

NORTH_MANAGER = bearer("olga", ["sales_manager"], team="north")
RULES: dict[str, Any] = {
    "territories": [
        {"name": "de-it", "team": "south", "countries": ["DE"], "nace": ["K"]},
        {"name": "austria", "team": "north", "countries": ["AT"]},
    ],
    "teams": [
        {"name": "south", "reps": [{"id": "ann"}, {"id": "bob"}]},
        {"name": "north", "reps": [{"id": "nils", "capacity": 3}]},
    ],
    "default_capacity": 5,
    "fallback_queue": "triage",
}


def _problem(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()


async def _put_rules(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str], version: int
) -> httpx.Response:
    return await client.put(
        "/routing-rules", json=body, headers={**headers, "If-Match": f'"{version}"'}
    )


async def _version(client: httpx.AsyncClient, path: str) -> tuple[str, dict[str, Any]]:
    resp = await client.get(path, headers=MARKETING)
    assert resp.status_code == 200, resp.text
    return resp.headers["etag"], resp.json()


def _changed(**change: Any) -> dict[str, Any]:
    body = copy.deepcopy(RULES)
    body.update(change)
    return body


async def test_a_manager_changes_only_their_own_teams_routing(client: httpx.AsyncClient) -> None:
    assert (await _put_rules(client, RULES, ADMIN, 1)).status_code == 200

    # the own team: reps, capacities, its territory (not overlapping north's), one at the end
    mine = copy.deepcopy(RULES)
    mine["teams"][0]["reps"].append({"id": "carl", "capacity": 2})
    mine["territories"][0]["countries"] = ["DE", "CH"]
    mine["territories"].append({"name": "south-at", "team": "south", "countries": ["AT"]})
    stored = await _put_rules(client, mine, MANAGER, 2)
    assert stored.status_code == 200, stored.text
    assert stored.headers["etag"] == '"3"'

    north_reps = copy.deepcopy(mine)
    north_reps["teams"][1]["reps"][0]["capacity"] = 30
    no_north_territory = copy.deepcopy(mine)
    del no_north_territory["territories"][1]
    ahead_of_north = copy.deepcopy(mine)
    ahead_of_north["territories"].insert(0, {"name": "grab", "team": "south", "countries": ["AT"]})
    widened_ahead = copy.deepcopy(mine)
    widened_ahead["territories"][0]["countries"] = []  # now also matches Austria, before north
    takes_north_rep = copy.deepcopy(mine)
    takes_north_rep["teams"][0]["reps"].append({"id": "nils"})
    new_team = copy.deepcopy(mine)
    new_team["teams"].append({"name": "west", "reps": [{"id": "wim"}]})
    default_north = {**mine, "default_team": "north"}
    shared_capacity = {**mine, "default_capacity": 50}
    other_queue = {**mine, "fallback_queue": "inbox"}
    refused = [
        (north_reps, ["north"]),
        (no_north_territory, ["north"]),
        (ahead_of_north, ["north"]),
        (widened_ahead, ["north"]),
        (takes_north_rep, ["north"]),
        (new_team, ["west"]),
        (default_north, ["north"]),
        (shared_capacity, ["north"]),
        (other_queue, ["north"]),
        ({**mine, "nace_revision": "2", "territories": mine["territories"][1:]}, ["north"]),
    ]
    for body, teams in refused:
        problem = _problem(await _put_rules(client, body, MANAGER, 3), 403)
        assert problem["teams"] == teams, body
        assert "north" in problem["detail"] or "west" in problem["detail"]
    teamless = bearer("tim", ["sales_manager"])
    _problem(await _put_rules(client, mine, teamless, 3), 403)
    etag, current = await _version(client, "/routing-rules")
    assert (etag, current["version"], current["created_by"]) == ('"3"', 3, "maria")
    assert current["teams"][1] == {"name": "north", "reps": [{"id": "nils", "capacity": 3}]}

    # the other manager may change north; If-Match still guards every PUT
    assert (await _put_rules(client, north_reps, MANAGER, 2)).status_code == 412
    assert (await client.put("/routing-rules", json=mine, headers=MANAGER)).status_code == 428
    assert (await _put_rules(client, north_reps, NORTH_MANAGER, 3)).status_code == 200
    # admins change everything
    for version, body in enumerate((new_team, default_north, shared_capacity), start=4):
        assert (await _put_rules(client, body, ADMIN, version)).status_code == 200
    assert (await _version(client, "/routing-rules"))[0] == '"7"'


def test_teams_touched_looks_at_what_could_take_another_teams_leads() -> None:
    table = nace_table("2.1")
    teams = {"south": Team("south", ()), "north": Team("north", ())}
    north = Territory("n", "north", regions=("DE1",), nace=("K",), size_classes=("medium",))

    def rules(*territories: Territory, default_team: str | None = None) -> RoutingRules:
        return RoutingRules(2, territories, teams, default_team=default_team)

    before = rules(north)
    # a south territory ahead of north's that cannot match the same company
    for harmless in (
        Territory("s", "south", countries=("AT",)),
        Territory("s", "south", regions=("DE2",)),
        Territory("s", "south", nace=("A",)),
        Territory("s", "south", size_classes=("small", "large")),
    ):
        assert teams_touched(before, rules(harmless, north), "south", table) == []
    for overlapping in (
        Territory("s", "south", countries=("DE",)),
        Territory("s", "south", regions=("DE",)),
        Territory("s", "south", regions=("DE11",)),
        Territory("s", "south", nace=("62.10",), size_classes=("medium", "large")),
        Territory("s", "south"),
    ):
        assert teams_touched(before, rules(overlapping, north), "south", table) == ["north"]
        assert teams_touched(before, rules(north, overlapping), "south", table) == []
    # whatever no territory matches goes to the default team: any territory change is its business
    grab = Territory("s", "south", countries=("FR",))
    assert teams_touched(
        rules(north, default_team="north"), rules(north, grab, default_team="north"), "south", table
    ) == ["north"]


async def test_leads_are_assigned_only_to_reps_of_the_routing_rules(
    client: httpx.AsyncClient, outbox: Any
) -> None:
    company_id = await company_and_scoring(client)
    assert (await _put_rules(client, RULES, ADMIN, 1)).status_code == 200
    lead_id = (await touch(client, "demo_request", company_id=company_id))["lead_id"]
    url = f"/leads/{lead_id}/assign"
    before = (await client.get(f"/leads/{lead_id}", headers=MANAGER)).json()
    assert (before["owner"], before["team"]) == ("ann", "south")
    events = len(await outbox("lead.assigned.v1"))

    for owner in ("zed", "Ann", "south"):
        problem = _problem(await client.post(url, json={"owner": owner}, headers=MANAGER), 422)
        assert problem["field"] == "owner" and repr(owner) in problem["detail"]
    problem = _problem(await client.post(url, json={"owner": "zed"}, headers=ADMIN), 422)
    assert problem["field"] == "owner"
    problem = _problem(
        await client.post(url, json={"owner": "nils", "team": "nowhere"}, headers=ADMIN), 422
    )
    assert problem["field"] == "team"
    # a manager assigns to reps of their own team only
    _problem(await client.post(url, json={"owner": "nils"}, headers=MANAGER), 403)
    _problem(await client.post(url, json={"owner": "nils", "team": "north"}, headers=MANAGER), 403)
    assert (await client.get(f"/leads/{lead_id}", headers=MANAGER)).json() == before
    assert len(await outbox("lead.assigned.v1")) == events

    moved = await client.post(url, json={"owner": "bob"}, headers=MANAGER)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["owner"], moved.json()["team"]) == ("bob", "south")
    # an admin assigns to any rep listed; the lead goes to the rep's team
    moved = await client.post(url, json={"owner": "nils"}, headers=ADMIN)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["owner"], moved.json()["team"]) == ("nils", "north")
    event = (await outbox("lead.assigned.v1"))[-1][3]
    assert (event["owner"], event["team"], event["previous_owner"]) == ("nils", "north", "bob")


BLANKS = ["", "   ", "\u00a0\u2003", " \t"]


async def test_blank_names_in_configurations_are_refused(client: httpx.AsyncClient) -> None:
    assert (await _put_rules(client, RULES, ADMIN, 1)).status_code == 200
    before = await _version(client, "/routing-rules")
    scoring_before = await _version(client, "/scoring-model")
    interest_before = await _version(client, "/interest-definition")
    for blank in BLANKS:
        bodies = []
        for path in (
            ("territories", 0, "name"),
            ("territories", 0, "team"),
            ("teams", 0, "name"),
            ("teams", 1, "reps", 0, "id"),
        ):
            body = copy.deepcopy(RULES)
            target: Any = body
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = blank
            bodies.append(body)
        # a team named blank and territories naming it: consistent, still blank
        both = copy.deepcopy(RULES)
        both["teams"][1]["name"] = both["territories"][1]["team"] = blank
        bodies += [both, _changed(fallback_queue=blank), _changed(default_team=blank)]
        for body in bodies:
            _problem(await _put_rules(client, body, ADMIN, 2), 422)
        region = {**SCORING, "fit_rules": [{"field": "region", "value": blank, "points": "5"}]}
        resp = await client.put(
            "/scoring-model", json=region, headers={**MARKETING, "If-Match": '"1"'}
        )
        _problem(resp, 422)
        resp = await client.put(
            "/interest-definition",
            json={"kinds": [blank]},
            headers={**MARKETING, "If-Match": '"1"'},
        )
        _problem(resp, 422)
    assert await _version(client, "/routing-rules") == before
    assert await _version(client, "/scoring-model") == scoring_before
    assert await _version(client, "/interest-definition") == interest_before

    # names lose surrounding whitespace
    padded = copy.deepcopy(RULES)
    padded["teams"][0]["name"] = " south\t"
    padded["teams"][0]["reps"][0]["id"] = "  ann "
    padded["fallback_queue"] = " triage "
    stored = await _put_rules(client, padded, ADMIN, 2)
    assert stored.status_code == 200, stored.text
    body = stored.json()
    assert (body["teams"][0]["name"], body["teams"][0]["reps"][0]["id"]) == ("south", "ann")
    assert body["fallback_queue"] == "triage"


async def test_a_stored_configuration_with_blank_names_still_loads(
    client: httpx.AsyncClient,
) -> None:
    company_id = await company_and_scoring(client)
    old_rules = {
        "nace_revision": "2.1",
        "territories": [
            {"name": "", "team": "south", "countries": ["DE"]},
            {"name": "blank team", "team": "  ", "countries": ["AT"]},
        ],
        "teams": [
            {"name": "south", "reps": [{"id": "ann", "capacity": None}, {"id": " "}]},
            {"name": "  ", "reps": []},
        ],
        "default_capacity": 5,
        "fallback_queue": " ",
        "default_team": None,
    }
    blank_region = {"field": "region", "value": " ", "points": "5"}
    old_model = {**SCORING, "fit_rules": [*SCORING["fit_rules"], blank_region]}
    db = client.app.state.db  # type: ignore[attr-defined]
    async with db.session() as session, session.begin():
        for kind, body in ((configs.ROUTING, old_rules), (configs.SCORING, old_model)):
            session.add(
                ConfigRow(
                    kind=kind,
                    version=3,
                    body=body,
                    created_by="legacy",
                    created_at=datetime.now(UTC),
                )
            )
    configs._latest.clear()  # the row was written behind the service's back

    etag, shown = await _version(client, "/routing-rules")
    assert (etag, shown["fallback_queue"], shown["teams"][1]["name"]) == ('"3"', " ", "  ")
    assert shown["territories"][0]["name"] == ""
    etag, model = await _version(client, "/scoring-model")
    assert (etag, model["fit_rules"][-1]["value"]) == ('"3"', " ")
    # the versions in force are used: the lead is scored with version 3 and routed by it
    lead = await touch(client, "demo_request", company_id=company_id)
    assert lead["lead_status"] == "mql", lead
    detail = (await client.get(f"/leads/{lead['lead_id']}", headers=MARKETING)).json()
    assert (detail["scoring_model_version"], detail["owner"], detail["team"]) == (3, "ann", "south")

    # a manager may still change the own team over it; the new version's names are checked
    mine = copy.deepcopy(old_rules)
    mine["teams"][0]["reps"] = [{"id": "ann"}, {"id": "bob"}]
    _problem(await _put_rules(client, mine, MANAGER, 3), 422)  # the blank names stay blank
    fixed = {**mine, "fallback_queue": "triage"}
    fixed["territories"] = [{"name": "de", "team": "south", "countries": ["DE"]}]
    fixed["teams"] = mine["teams"][:1]
    problem = _problem(await _put_rules(client, fixed, MANAGER, 3), 403)
    assert problem["teams"] == ["  "]  # the blank team's entries are not the manager's
    assert (await _put_rules(client, fixed, ADMIN, 3)).status_code == 200
