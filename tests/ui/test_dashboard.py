"""The dashboard at /ui, clicked through in headless Chromium against the real server.

Each screen is photographed on the way (see `shoot`): `make screenshots` refreshes the
README's pictures from these tests.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

import httpx
from playwright.sync_api import Locator, Page, expect

from app.ids import row_id
from app.notifications.content import request_link
from tests.support.live_server import LiveServer
from tests.support.waiting import eventually
from tests.ui.conftest import Shoot, SignIn
from tests.ui.scenario import READY_WITHIN_SECONDS, Shop


def card(page: Page | Locator, tag: str) -> Locator:
    return page.locator(f'.image-card[data-tag="{tag}"]')


def linked_request(link: Locator) -> str:
    """The request id a dashboard link points at (#/requests/<id, URL-encoded>)."""
    target = link.get_attribute("href") or ""
    assert target.startswith("#/requests/"), target
    return unquote(target.removeprefix("#/requests/"))


def request_href(request_id: str) -> str:
    return f"#/requests/{quote(request_id, safe='')}"


def test_pages_are_static_files_with_a_strict_policy(shop: Shop) -> None:
    with httpx.Client(base_url=shop.url) as http:
        shell = http.get("/ui/")
        module = http.get("/ui/static/js/api.js")
        linked = http.get("/ui/requests/7")  # the link in approval emails
        assert http.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
        assert http.get("/ui/static/js/missing.js").status_code == 404
    assert shell.status_code == 200 and '<script type="module"' in shell.text
    assert "script-src 'self'" in shell.headers["content-security-policy"]
    assert module.headers["content-type"].startswith("text/javascript")
    assert "script-src 'self'" in module.headers["content-security-policy"]
    assert linked.status_code == 200 and linked.text == shell.text


def test_sign_in_out_and_an_unaccepted_token(shop: Shop, sign_in: SignIn, shoot: Shoot) -> None:
    page = sign_in(shop.tokens["sam"])
    expect(page.locator(".who")).to_have_text("Sam Signout (sam@example.com)")
    expect(page.get_by_role("link", name="shop")).to_be_visible()
    expect(page.get_by_role("link", name="Policies")).to_have_count(0)  # not a super-admin
    shoot(page, "02-applications")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    assert page.evaluate("sessionStorage.length") == 0

    page.get_by_label("API token").fill("hoist_not-a-real-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Your token was not accepted")
    shoot(page, "01-sign-in")

    # A token revoked while signed in: the next request brings the sign-in back.
    page.get_by_label("API token").fill(shop.tokens["sam"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="shop")).to_be_visible()
    shop.api(
        "mutation($id: ID!) { revokeApiToken(id: $id) { deleted errors { message } } }",
        shop.admin,
        id=shop.token_ids["sam"],
    )
    page.get_by_role("link", name="shop").click()
    expect(page.get_by_role("status")).to_contain_text("Your token was not accepted")
    expect(page.get_by_label("API token")).to_be_visible()


def test_promote_from_ci_approve_deploy_and_see_history(
    shop: Shop, sign_in: SignIn, shoot: Shoot
) -> None:
    dana = sign_in(shop.tokens["dana"])
    dana.get_by_role("link", name="shop").click()
    workflow = dana.locator('[data-workflow="main"]')
    nodes = workflow.locator(".node.env")
    expect(nodes).to_have_count(3)
    expect(nodes.locator(".node-name")).to_have_text(["dev", "staging", "prod"])  # tree order
    expect(workflow.locator('[data-env="dev"] .last-deployed')).to_contain_text("1.4.1")
    expect(workflow.locator('[data-env="prod"] .last-deployed')).to_have_text("nothing deployed")
    shoot(dana, "03-build-deploy")

    # Promote 1.4.1 from CI straight to prod: the policy wants one approval.
    workflow.get_by_role("button", name="Promote").click()
    dialog = dana.get_by_role("dialog")
    expect(dialog.locator(".image-card")).to_have_count(3)
    expect(card(dialog, "1.5.0-rc1").locator(".commit")).to_contain_text(
        "Try <b>new</b> search <img src=x>"
    )  # markup from the API shows as text
    expect(dialog.locator(".commit b")).to_have_count(0)
    promote_to = dialog.get_by_role("button", name="Promote to…")
    expect(promote_to).to_be_disabled()
    card(dialog, "1.4.1").get_by_role("button", name="Select").click()
    expect(card(dialog, "1.4.1")).to_have_class(re.compile("selected"))
    shoot(dana, "04-promote-select-image")
    promote_to.click()
    prod = dialog.locator('.target[data-env="prod"]')
    expect(prod).to_contain_text("needs 1 approval(s)")
    expect(prod).to_contain_text("Can approve: Avery Approver")
    prod.get_by_role("checkbox").check()
    dialog.get_by_label("Comment").fill("VAT hotfix for the invoice run")
    shoot(dana, "05-promote-to")
    dialog.get_by_role("button", name="Promote Image").click()
    expect(dialog.locator('.result[data-env="prod"]')).to_contain_text("AWAITING_APPROVAL")
    # Ids are opaque: the result links to the request without showing its id.
    result_link = dialog.locator('.result[data-env="prod"] a')
    expect(result_link).to_have_text("view request")
    request_id = linked_request(result_link)
    assert row_id(request_id, "PromotionRequest") is not None, request_id

    # The rc image is blocked by the policy's fail condition, and the preview says so.
    dialog.get_by_role("button", name="← Back to images").click()
    card(dialog, "1.5.0-rc1").get_by_role("button", name="Select").click()
    promote_to.click()
    blocked = dialog.locator('.target[data-env="prod"]')
    expect(blocked).to_contain_text("blocked by policy")
    expect(blocked).to_contain_text('"rc" in imageLabels')
    # The clause that blocks it is highlighted with its value (issue 20).
    clause = blocked.locator(".failed-clauses.blocking .failed-clause")
    expect(clause).to_have_count(1)
    expect(clause).to_contain_text('fail condition "rc" in imageLabels')
    expect(clause.locator(".clause-value")).to_have_text('"rc" in ["rc"]')
    expect(blocked.get_by_role("checkbox")).to_be_disabled()
    shoot(dana, "06-promote-blocked")

    # The requester sees the request pending, with Cancel but without approving.
    dialog.get_by_role("tab", name="Approval Pending").click()
    dialog.get_by_label("Only those pending with me").uncheck()
    mine = dialog.locator(f'tr[data-request="{request_id}"]')
    expect(mine).to_contain_text("0/1 approval(s)")
    expect(mine.get_by_role("button", name="Cancel request")).to_be_visible()
    expect(mine.get_by_role("button", name="Reject")).to_have_count(0)
    dialog.get_by_role("button", name="Close").click()

    # Avery approves in a browser of her own.
    avery = sign_in(shop.tokens["avery"])
    avery.get_by_role("link", name="shop").click()
    avery.locator('[data-workflow="main"]').get_by_role("button", name="Promote").click()
    dialog = avery.get_by_role("dialog")
    dialog.get_by_role("tab", name="Approval Pending").click()
    row = dialog.locator(f'tr[data-request="{request_id}"]')
    expect(row).to_contain_text("CI")
    expect(row).to_contain_text("Dana Developer")
    expect(row).to_contain_text("you can approve")
    expect(dialog.locator(".comment")).to_contain_text("VAT hotfix for the invoice run")
    shoot(avery, "07-approval-pending")
    dialog.get_by_role("button", name="Approve for…").click()
    expect(dialog.get_by_role("checkbox", name="prod")).to_be_checked()
    dialog.get_by_role("button", name="Approve", exact=True).click()
    expect(dialog.locator(".notice")).to_contain_text("PROMOTING")
    expect(dialog.locator(".empty")).to_have_text("Nothing is waiting for your approval.")
    eventually(
        lambda: shop.request_status(request_id) == "PROMOTED", "the promotion", READY_WITHIN_SECONDS
    )

    # Dana deploys the promoted image to prod.
    dana.goto(f"{shop.url}/ui/#/apps/shop/envs/prod/deploy")
    promoted = card(dana, "1.4.1")
    expect(promoted.locator(".promoted")).to_have_text(
        "promoted from CI · request to prod · approved by Avery Approver"
    )
    expect(promoted.locator(".promoted a")).to_have_attribute("href", request_href(request_id))
    promoted.get_by_role("button", name="Deploy").click()
    # The notice names the deployment by what it does, not by its opaque id.
    expect(dana.locator(".notice")).to_have_text(
        re.compile(r"^Deploying 1\.4\.1 to prod: [A-Z]+ · see Deployment History$")
    )
    # The list is reloaded in place: the images stay on screen throughout.
    expect(card(dana, "1.4.1")).to_be_visible()
    shoot(dana, "08-deploy")
    eventually(
        lambda: shop.deployments("prod")[0]["status"] == "SUCCEEDED",
        "the deployment to prod",
        READY_WITHIN_SECONDS,
    )

    dana.get_by_role("link", name="see Deployment History").click()
    entry = dana.locator(".history-row").first
    expect(entry).to_contain_text("1.4.1")
    expect(entry).to_contain_text("SUCCEEDED")
    expect(entry).to_contain_text("by Dana Developer")
    expect(entry.locator(".promoted")).to_have_text(
        "promoted from CI · request to prod · approved by Avery Approver"
    )
    expect(entry.locator(".promoted a")).to_have_attribute("href", request_href(request_id))
    deployment_id = entry.get_attribute("data-deployment") or ""
    assert row_id(deployment_id, "Deployment") is not None, deployment_id
    expect(entry).not_to_contain_text(deployment_id)  # the opaque id is not shown
    shoot(dana, "09-history")

    # The email's link to the request opens the request page, named by what it asks.
    dana.goto(request_link(shop.url, row_id(request_id, "PromotionRequest") or 0))
    expect(dana.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Applications\W+Request to prod for shop:1\.4\.1$")
    )
    expect(dana.locator(".facts")).to_contain_text("PROMOTED")
    expect(dana.locator(".facts")).to_contain_text("1/1 approval(s)")
    expect(dana.locator(".facts")).to_contain_text("Signed record")  # issue 20's record
    expect(dana.locator("main")).not_to_contain_text(request_id)


def test_images_that_cannot_deploy_say_why(shop: Shop, sign_in: SignIn, shoot: Shoot) -> None:
    dana = sign_in(shop.tokens["dana"])
    dana.goto(f"{shop.url}/ui/#/apps/shop/envs/dev/deploy")
    rc = card(dana, "1.5.0-rc1")
    expect(rc.locator(".reasons")).to_contain_text("blocked by the filter condition of dev")
    expect(rc.get_by_role("button", name="Deploy")).to_be_disabled()

    dana.goto(f"{shop.url}/ui/#/apps/shop/envs/staging/deploy")
    image = card(dana, "1.4.0")
    expect(image.locator(".reasons")).to_have_text("needs 1 deployment approval(s), has 0")
    expect(image.locator(".approvals")).to_have_text("deployment approvals 0/1")
    expect(image.get_by_role("button", name="Deploy")).to_be_disabled()
    expect(image.get_by_role("button", name="Approve deployment")).to_have_count(0)
    shoot(dana, "10-deploy-reasons")

    gale = sign_in(shop.tokens["gale"])
    gale.goto(f"{shop.url}/ui/#/apps/shop/envs/staging/deploy")
    card(gale, "1.4.0").get_by_role("button", name="Approve deployment").click()
    expect(card(gale, "1.4.0").locator(".approvals")).to_have_text("deployment approvals 1/1")
    expect(card(gale, "1.4.0").get_by_role("button", name="Deploy")).to_have_count(0)

    dana.reload()
    expect(card(dana, "1.4.0").get_by_role("button", name="Deploy")).to_be_enabled()


def test_super_admin_writes_a_policy_with_live_validation(
    shop: Shop, sign_in: SignIn, shoot: Shoot
) -> None:
    admin = sign_in(shop.admin)
    admin.get_by_role("link", name="Policies").click()
    row = admin.locator('tr[data-policy="prod-hotfix"]')
    expect(row).to_contain_text("shop/staging, shop/prod")
    expect(row).to_contain_text('"rc" in imageLabels')

    admin.get_by_role("link", name="New policy").click()
    admin.get_by_label("Name").fill("tagged-releases")
    admin.get_by_label("Description").fill("Only version tags")
    passing = admin.get_by_label("Pass condition (CEL): the image must meet it")
    passing.press_sequentially('containerImageTag.startsWith("v"')
    message = admin.locator(".field", has=passing).locator(".error")
    expect(message).to_contain_text("column")
    admin.get_by_label("Approvals needed").fill("2")
    shoot(admin, "12-policy-form")
    admin.get_by_role("button", name="Create policy").click()
    expect(message).to_contain_text("passCondition")  # the server refused it too

    passing.press("End")
    passing.press_sequentially(")")
    expect(admin.locator(".field", has=passing).locator(".ok")).to_have_text("✓ valid")
    admin.get_by_role("button", name="Create policy").click()
    expect(admin.get_by_role("heading", name="Applied to")).to_be_visible()

    pair = admin.locator('[data-pair="shop/dev"]')
    pair.get_by_role("checkbox").check()
    admin.get_by_role("button", name="Apply tagged-releases").click()
    expect(admin.locator('[data-pair="shop/dev"]')).to_contain_text("policy: tagged-releases")

    admin.get_by_role("link", name="Promotion policies").click()
    expect(admin.locator('tr[data-policy="tagged-releases"]')).to_contain_text("shop/dev")
    shoot(admin, "11-policies")


def test_reject_needs_a_reason_and_the_requester_may_cancel(shop: Shop, sign_in: SignIn) -> None:
    promote = (
        "mutation($image: ID!, $env: String!) { promoteImage(imageId: $image, "
        "source: {type: CI}, targetEnvironments: [$env]) { results { request { id } } } }"
    )
    ids = {
        env: shop.api(promote, shop.tokens["dana"], image=shop.images["1.4.0"], env=env)[
            "promoteImage"
        ]["results"][0]["request"]["id"]
        for env in ("staging", "prod")
    }

    avery = sign_in(shop.tokens["avery"])
    avery.get_by_role("link", name="shop").click()
    avery.get_by_role("button", name="Promote").click()
    dialog = avery.get_by_role("dialog")
    dialog.get_by_role("tab", name="Approval Pending").click()
    dialog.get_by_label("Show requests").select_option("staging")
    row = dialog.locator(f'tr[data-request="{ids["staging"]}"]')
    expect(dialog.locator(f'tr[data-request="{ids["prod"]}"]')).to_have_count(0)
    row.get_by_role("button", name="Reject").click()
    row.get_by_role("button", name="Confirm reject").click()
    expect(row.get_by_role("alert")).to_have_text("Give a reason: the requester will read it.")
    row.get_by_label("Reason for rejecting").fill("1.4.0 lacks the VAT fix")
    row.get_by_role("button", name="Confirm reject").click()
    expect(dialog.locator(".notice")).to_contain_text("REJECTED")
    assert shop.request_status(ids["staging"]) == "REJECTED"

    dana = sign_in(shop.tokens["dana"])
    dana.get_by_role("link", name="shop").click()
    dana.get_by_role("button", name="Promote").click()
    dialog = dana.get_by_role("dialog")
    dialog.get_by_role("tab", name="Approval Pending").click()
    dialog.get_by_label("Only those pending with me").uncheck()
    dialog.locator(f'tr[data-request="{ids["prod"]}"]').get_by_role(
        "button", name="Cancel request"
    ).click()
    expect(dialog.locator(".notice")).to_contain_text("CANCELLED")
    expect(dialog.locator(f'tr[data-request="{ids["prod"]}"]')).to_have_count(0)
    assert shop.request_status(ids["prod"]) == "CANCELLED"


def test_an_email_link_with_a_padded_global_id_opens_the_request(
    shop: Shop, sign_in: SignIn
) -> None:
    # Requests 10-99 have ids ending in "==" (base64 padding): make requests (each
    # withdrawn at once, so no other test sees them pending) until one does.
    promote = (
        "mutation($image: ID!) { promoteImage(imageId: $image, source: {type: CI}, "
        'targetEnvironments: ["staging"]) { results { request { id } } errors { message } } }'
    )
    cancel = (
        "mutation($id: ID!) { cancelPromotionRequest(requestId: $id) "
        "{ request { status } errors { message } } }"
    )
    for _ in range(100):
        [result] = shop.api(promote, shop.tokens["dana"], image=shop.images["1.4.0"])[
            "promoteImage"
        ]["results"]
        request_id = result["request"]["id"]
        shop.api(cancel, shop.tokens["dana"], id=request_id)
        if "=" in request_id:
            break
    assert "=" in request_id, request_id
    number = row_id(request_id, "PromotionRequest")
    assert number is not None
    link = request_link(shop.url, number)  # the link the approval emails carry
    assert link.endswith("%3D%3D"), link

    dana = sign_in(shop.tokens["dana"])
    dana.goto(link)
    expect(dana.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Applications\W+Request to staging for shop:1\.4\.0$")
    )
    expect(dana.locator(".facts")).to_contain_text("CANCELLED")
    assert dana.evaluate("location.hash") == request_href(request_id)
    expect(dana.locator("main")).not_to_contain_text(request_id)


def test_deploy_screen_pages_with_older_images(shop: Shop, sign_in: SignIn) -> None:
    # An application of its own: the shop's screens keep their three images.
    shop.api('mutation { createApplication(name: "warehouse") { errors { message } } }', shop.admin)
    shop.api(
        "mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) "
        "{ errors { message } } }",
        shop.admin,
        input={
            "application": "warehouse",
            "name": "main",
            "ciPipeline": "warehouse-ci",
            "cdPipelines": [{"environment": "dev"}],
        },
    )
    page_size = 20  # deploy.js asks for 20 a page
    for n in range(page_size + 1):
        shop.api(
            'mutation($i: String!) { registerImage(input: {application: "warehouse", '
            'workflow: "main", image: $i}) { image { id } errors { message } } }',
            shop.admin,
            i=f"registry.example.com/warehouse:0.{n}",
        )

    admin = sign_in(shop.admin)
    admin.goto(f"{shop.url}/ui/#/apps/warehouse/envs/dev/deploy")
    cards = admin.locator(".image-card")
    older = admin.get_by_role("button", name="Older images")
    expect(cards).to_have_count(page_size)
    expect(card(admin, f"0.{page_size}")).to_have_count(1)  # newest first
    expect(card(admin, "0.0")).to_have_count(0)
    older.click()
    expect(cards).to_have_count(page_size + 1)
    expect(card(admin, "0.0")).to_have_count(1)
    expect(older).to_have_count(0)  # that was the last page
    tags = cards.evaluate_all("cards => cards.map((c) => c.dataset.tag)")
    assert tags == [f"0.{n}" for n in range(page_size, -1, -1)]


LEDGER_HISTORY = """{ deploymentHistory(application: "ledger", environment: "dev", first: 20) {
  edges { node { id status image { id tag } } } } }"""
SHA = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"


def test_history_rolls_back_after_a_confirmation_and_shows_commits(
    shop: Shop, sign_in: SignIn, live_server: LiveServer, shoot: Shoot
) -> None:
    # An application of its own, dev following CI: each image is deployed there at once.
    shop.api('mutation { createApplication(name: "ledger") { errors { message } } }', shop.admin)
    shop.api(
        "mutation($input: CreateWorkflowInput!) { createWorkflow(input: $input) "
        "{ errors { message } } }",
        shop.admin,
        input={
            "application": "ledger",
            "name": "main",
            "ciPipeline": "ledger-ci",
            "cdPipelines": [{"environment": "dev", "trigger": "AUTOMATIC"}],
        },
    )
    shop.person("lee", "Lee Ledger", ("BUILD_DEPLOY", "ledger", "*"))
    shop.person("vic", "Vic Viewer", ("VIEWER", "ledger", "*"))

    def history() -> list[dict[str, Any]]:
        edges = shop.api(LEDGER_HISTORY, shop.admin)["deploymentHistory"]["edges"]
        return [e["node"] for e in edges]

    for count, tag in enumerate(("1.0", "2.0", "3.0"), start=1):
        shop.api(
            'mutation($i: String!) { registerImage(input: {application: "ledger", '
            'workflow: "main", image: $i}) { image { id } errors { message } } }',
            shop.admin,
            i=f"registry.example.com/ledger:{tag}",
        )
        eventually(
            lambda n=count: [d["status"] for d in history()].count("SUCCEEDED") == n,
            f"the automatic deployment of {tag}",
            READY_WITHIN_SECONDS,
        )
    by_tag = {d["image"]["tag"]: d for d in history()}
    # The git executor lands separately: its commits are written here as it would.
    with sqlite3.connect(live_server.data_dir / "hoist.sqlite3", timeout=10) as database:
        for tag, repository in (
            ("3.0", "https://git.example.com/ledger/deploy.git"),
            ("2.0", "https://git.example.com/ledger/deploy.git"),
            ("1.0", "ssh://git@git.example.com/ledger/deploy.git"),
        ):
            database.execute(
                "UPDATE deployments SET commit_sha = ?, commit_repository = ? WHERE id = ?",
                (SHA, repository, row_id(by_tag[tag]["id"], "Deployment")),
            )

    vic = sign_in(shop.tokens["vic"])
    vic.goto(f"{shop.url}/ui/#/apps/ledger/envs/dev/history")
    expect(vic.locator(".history-row")).to_have_count(3)
    expect(vic.get_by_role("button", name="Roll back to this")).to_have_count(0)  # a VIEWER

    lee = sign_in(shop.tokens["lee"])
    lee.get_by_role("link", name="ledger").click()
    expect(lee.locator('[data-env="dev"] .last-deployed .deployment-commit')).to_have_text(SHA[:7])
    lee.goto(f"{shop.url}/ui/#/apps/ledger/envs/dev/history")
    expect(lee.locator(".live-state")).to_have_text("live")
    rows = lee.locator(".history-row")
    expect(rows).to_have_count(3)
    row_of = {
        tag: lee.locator(f'.history-row[data-deployment="{d["id"]}"]') for tag, d in by_tag.items()
    }
    # The newest SUCCEEDED is the image there now: no button; the earlier ones have one.
    expect(row_of["3.0"].get_by_role("button", name="Roll back to this")).to_have_count(0)
    for tag in ("2.0", "1.0"):
        expect(row_of[tag].get_by_role("button", name="Roll back to this")).to_be_visible()
    forge = row_of["2.0"].locator(".deployment-commit")
    expect(forge).to_have_text(f"commit {SHA[:7]} in https://git.example.com/ledger/deploy.git")
    expect(forge.get_by_role("link", name=SHA[:7])).to_have_attribute(
        "href", f"https://git.example.com/ledger/deploy/commit/{SHA}"
    )
    ssh = row_of["1.0"].locator(".deployment-commit")
    expect(ssh).to_contain_text(f"commit {SHA[:7]} in ssh://git@git.example.com/ledger/deploy.git")
    expect(ssh.get_by_role("link")).to_have_count(0)  # no web page for an ssh:// repository

    # Asked first; and a refusal (a freeze on ledger/dev, applied meanwhile) shows its message.
    today = datetime.now(UTC).date()
    shop.api(
        "mutation($input: PromotionWindowInput!) { createPromotionWindow(input: $input) "
        "{ errors { message } } }",
        shop.admin,
        input={
            "name": "ledger-freeze",
            "kind": "DENY",
            "timeZone": "UTC",
            "dateRanges": [
                {"start": str(today - timedelta(days=1)), "end": str(today + timedelta(days=2))}
            ],
        },
    )
    shop.api(
        'mutation { applyPromotionWindow(window: "ledger-freeze", applicationEnvironments: '
        '[{appName: "ledger", envName: "dev"}]) { errors { message } } }',
        shop.admin,
    )
    row_of["1.0"].get_by_role("button", name="Roll back to this").click()
    confirm = row_of["1.0"].get_by_role("button", name="Confirm rollback to 1.0")
    confirm.click()
    expect(row_of["1.0"].get_by_role("alert")).to_contain_text(
        "the promotion window of ledger/dev is closed"
    )
    assert len(history()) == 3
    shop.api(
        'mutation { deletePromotionWindow(name: "ledger-freeze") { errors { message } } }',
        shop.admin,
    )

    confirm.click()
    expect(lee.locator(".notice")).to_contain_text("Rolling dev back to 1.0:")
    newest = rows.first
    expect(newest).to_contain_text("1.0")
    expect(newest.locator(".rollback-of")).to_contain_text("rollback of deployment of 3.0")
    eventually(lambda: history()[0]["status"] == "SUCCEEDED", "the rollback", READY_WITHIN_SECONDS)
    expect(newest).to_contain_text("SUCCEEDED")
    # 1.0 is there now: its rows have no button, 3.0 and 2.0 have one.
    expect(lee.get_by_role("button", name="Roll back to this")).to_have_count(2)
    expect(newest.get_by_role("button", name="Roll back to this")).to_have_count(0)
    expect(rows).to_have_count(4)
    shoot(lee, "09b-history-rollback")
