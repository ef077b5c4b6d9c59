"""The console in a real headless Chromium (Debian's chromium + chromium-driver, driven by
Selenium): password and MFA sign-in, a forced password change, creating a user, a policy
the editor refuses then accepts, MFA enrollment by reading the seed, the simulator, the
audit trail, sign-out, CSRF, a read-only user, session expiry.

Screenshots of every page are kept in ``build/screenshots/console/`` (or
``$SIGV4KIT_SCREENSHOTS``). ``make pytest`` installs chromium and chromium-driver
when missing; without them this module fails in CI and skips elsewhere.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _console import ConsoleServer, console_server, seed_bytes
from _iam_api import policy_document, unique
from sigv4kit.middleware.console import ConsoleSettings
from sigv4kit.middleware.iam.mfa import code_at, step_at

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SHOTS = Path(os.environ.get("SIGV4KIT_SCREENSHOTS", "build/screenshots/console"))

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        pytest.fail("chromium and chromium-driver are missing: 'make pytest' installs them",
                    pytrace=False)
    pytest.skip("chromium and chromium-driver are not installed (make pytest installs them)",
                allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    path = tmp_path_factory.mktemp("console-browser") / "iam.db"
    with console_server(f"sqlite:///{path}", ConsoleSettings(
            idle_timeout=timedelta(minutes=5))) as running:
        yield running


@pytest.fixture(scope="module")
def short_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    path = tmp_path_factory.mktemp("console-idle") / "iam.db"
    with console_server(f"sqlite:///{path}", ConsoleSettings(
            idle_timeout=timedelta(seconds=5))) as running:
        yield running


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[Any]:
    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    log = open(tmp_path / "chromedriver.log", "w")  # noqa: SIM115 - closed below
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=log), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        log.close()


class Page:
    """The browser on one console, with screenshots named by step."""

    def __init__(self, driver: Any, server: ConsoleServer, name: str) -> None:
        self.driver, self.server, self.name = driver, server, name
        SHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, path: str) -> None:
        self.driver.get(self.server.url + path)

    def shot(self, step: str) -> None:
        self.driver.save_screenshot(str(SHOTS / f"{self.name}-{step}.png"))

    def fill(self, label_for: str, value: str) -> None:
        box = self.driver.find_element(By.ID, label_for)
        box.clear()
        box.send_keys(value)

    def press(self, text: str) -> None:
        """Click a form's button and wait for the page it loads (every console form
        submits without JavaScript), so what follows reads the new page, not the old."""
        # The old page's window carries a mark the new page's does not; reading it
        # while the page is being replaced may fail, and is then tried again.
        self.driver.execute_script("window.sigv4kitOldPage = true")
        self.driver.find_element(By.XPATH, f'//button[normalize-space()="{text}"]').click()
        WebDriverWait(self.driver, 60, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                "return window.sigv4kitOldPage === undefined"
                " && document.readyState === 'complete'"))

    def wait_for(self, text: str, timeout: float = 20) -> None:
        """Wait for ``text`` on the page (a script-submitted form loads asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if text in self.text:
                    return
            except Exception:  # the page is being replaced
                pass
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared; the page says: {self.text[:500]!r}")

    @property
    def text(self) -> str:
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    @property
    def path(self) -> str:
        url = str(self.driver.current_url)
        return url.removeprefix(self.server.url).split("?")[0]

    def sign_in(self, user: str, password: str) -> None:
        self.open("/console/signin")
        # Labels are tied to their inputs: find the inputs through them.
        for label, value in (("Account ID or alias", self.server.account_id),
                             ("IAM user name", user), ("Password", password)):
            target = self.driver.find_element(
                By.XPATH, f'//label[normalize-space()="{label}"]').get_attribute("for")
            self.fill(target, value)
        self.press("Sign in")


def test_the_console_end_to_end(chrome: Any, server: ConsoleServer) -> None:
    page = Page(chrome, server, "admin")
    page.open("/console/")
    assert page.path == "/console/signin"
    page.shot("01-signin")
    page.sign_in("admin", "wrong password")
    assert "Your authentication information is incorrect" in page.text
    page.sign_in("admin", server.admin["console_password"])
    assert page.path == "/console/"
    assert "Security status" in page.text
    page.shot("02-dashboard")

    # Create a user with a console password that must be changed.
    name, first = unique("alice"), "First-Pass-123"
    page.open("/console/users")
    page.fill("f-username", name)
    page.press("Create user")
    assert f"User {name}" in page.text
    page.fill("f-password", first)
    # "Require a new password at next sign-in" is checked by default (as AWS recommends).
    assert chrome.find_element(By.ID, "f-reset").is_selected()
    page.press("Set console password")
    assert "Console password set." in page.text
    assert "must change at next sign-in" in page.text

    # A policy the editor refuses (no Action), then accepts.
    policy = unique("read")
    page.open("/console/policies/new")
    page.fill("f-name", policy)
    page.fill("policy-document", '{"Version": "2012-10-17", "Statement": '
                                 '[{"Effect": "Allow", "Resource": "*"}]}')
    assert "well-formed" in chrome.find_element(By.ID, "json-status").text  # the live check
    page.press("Create policy")
    assert "MalformedPolicyDocument" in page.text
    page.shot("03-policy-editor-refused")
    page.fill("policy-document", policy_document(
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "s3:GetObject"],
         "Resource": "*"}))
    page.press("Create policy")
    assert f"Policy {policy}" in page.text
    page.shot("04-policy")
    arn = f"arn:aws:iam::{server.account_id}:policy/{policy}"
    page.open(f"/console/user?name={name}")
    page.fill("f-policy_arn", arn)
    page.press("Attach policy")
    assert "AttachUserPolicy done." in page.text

    # Enroll an MFA device by reading the seed off the page.
    page.press("Assign a virtual MFA device")
    assert chrome.find_element(By.CSS_SELECTOR, 'img[alt^="QR code"]').is_displayed()
    page.shot("05-mfa-enroll")
    seed = seed_bytes(chrome.find_element(By.ID, "mfa-seed").text)
    step = step_at(time.time())
    page.fill("f-code1", code_at(seed, step - 1))
    page.fill("f-code2", code_at(seed, step))
    page.press("Assign MFA")
    assert "MFA device assigned." in page.text
    page.shot("06-user")
    page.open("/console/users")
    page.shot("06b-users")
    page.open("/console/groups")
    page.shot("07-groups")
    page.open("/console/roles")
    page.shot("08-roles")
    page.open("/console/policies")
    page.shot("09-policies")
    page.open("/console/account")
    page.shot("10-account")
    page.press("Sign out")
    assert page.path == "/console/signin"

    # The user: password, then the MFA code, then the forced change.
    page.name = "alice"
    page.sign_in(name, first)
    assert page.path == "/console/mfa"
    page.shot("01-mfa")
    # A code is used once: the device's next code after the two enrollment used.
    page.fill("f-code", code_at(seed, max(step_at(time.time()), step + 1)))
    page.press("Submit")
    assert page.path == "/console/password"
    page.shot("02-change-password")
    page.fill("f-new_password", "Second-Pass-456")
    page.fill("f-confirm_password", "Second-Pass-456")
    page.press("Change password")
    assert "Your password was changed." in page.text

    # Read-only: no write forms; a forged post is refused by the policy engine.
    page.open("/console/users")
    assert not chrome.find_elements(By.XPATH, '//button[normalize-space()="Create user"]')
    page.shot("03-users-read-only")
    victim = unique("mallory")
    chrome.execute_script(
        "var f = document.createElement('form'); f.method = 'post';"
        "f.action = '/console/users';"
        "var t = document.querySelector('input[name=csrf_token]').cloneNode();"
        "var u = document.createElement('input'); u.name = 'username'; u.value = arguments[0];"
        "f.appendChild(t); f.appendChild(u); document.body.appendChild(f); f.submit();",
        victim)
    page.wait_for("AccessDenied")
    page.shot("04-refused")

    # CSRF: the same form without a valid token is refused.
    chrome.execute_script(
        "var f = document.createElement('form'); f.method = 'post';"
        "f.action = '/console/users';"
        "var t = document.createElement('input'); t.name = 'csrf_token'; t.value = 'forged';"
        "f.appendChild(t); document.body.appendChild(f); f.submit();")
    page.wait_for("did not come from this console")
    page.shot("05-csrf-refused")
    page.open("/console/")
    page.press("Sign out")

    # The administrator: the simulator and the audit trail of alice's actions.
    page.name = "admin"
    page.sign_in("admin", server.admin["console_password"])
    page.open("/console/simulator")
    page.fill("f-source", f"arn:aws:iam::{server.account_id}:user/{name}")
    page.fill("f-actions", "s3:GetObject iam:CreateUser")
    page.press("Simulate")
    assert chrome.find_elements(By.CSS_SELECTOR, ".allowed")
    assert chrome.find_elements(By.CSS_SELECTOR, ".denied")
    page.shot("11-simulator")
    page.open(f"/console/audit?key=Username&value={name}")
    trail = page.text
    assert "ConsoleLogin" in trail
    assert "CreateUser" in trail  # the refused attempt, recorded with its error
    assert "AccessDenied" in trail
    page.shot("12-audit")
    page.press("Sign out")
    assert page.path == "/console/signin"
    page.open("/console/users")
    assert page.path == "/console/signin"


def test_session_expires_when_idle(chrome: Any, short_server: ConsoleServer) -> None:
    page = Page(chrome, short_server, "idle")
    page.sign_in("admin", short_server.admin["console_password"])
    assert page.path == "/console/"
    time.sleep(6)  # idle_timeout=5s
    page.open("/console/users")
    assert page.path == "/console/signin"
    assert "Your session has ended" in page.text
    page.shot("01-expired")
