"""[security_compliance]: lockout, password history, minimum age, regex.

The shared instance runs with lockout_failure_attempts=2, lockout_duration=5,
unique_last_password_count=2 (what Tempest's interop tests assume); minimum
password age and the password regex get an instance of their own (CLOUD_ENV).
"""

import time

from conftest import describe, unique

CLOUD_ENV = {
    "ONESTACK_SECURITY_COMPLIANCE_MINIMUM_PASSWORD_AGE": "1",
    "ONESTACK_SECURITY_COMPLIANCE_PASSWORD_REGEX": "^.{10,}$",
    "ONESTACK_SECURITY_COMPLIANCE_PASSWORD_REGEX_DESCRIPTION":
        "Passwords must be at least 10 characters long.",
}


def change_password(cloud, user_id, old, new):
    return cloud.post("/v3/users/%s/password" % user_id, token=None,
                      json={"user": {"password": new, "original_password": old}})


# --- lockout (shared instance) ---------------------------------------------------------

def test_lockout(cloud):
    u = cloud.create_user()
    assert cloud.login(u["password"], user_id=u["id"]).status_code == 201
    for _ in range(2):
        r = cloud.login("wrong-password", user_id=u["id"])
        assert r.status_code == 401, describe(r)
    # locked: even the right password fails
    r = cloud.login(u["password"], user_id=u["id"])
    assert r.status_code == 401, describe(r)
    assert r.json()["error"]["code"] == 401, describe(r)
    # by name as well
    r = cloud.login(u["password"], name=u["name"], domain_id="default")
    assert r.status_code == 401, describe(r)
    time.sleep(5 + 1)
    r = cloud.login(u["password"], user_id=u["id"])
    assert r.status_code == 201, describe(r)


def test_success_resets_failure_count(cloud):
    u = cloud.create_user()
    assert cloud.login("wrong-password", user_id=u["id"]).status_code == 401
    assert cloud.login(u["password"], user_id=u["id"]).status_code == 201
    assert cloud.login("wrong-password", user_id=u["id"]).status_code == 401
    # one failure since the last success: not locked
    r = cloud.login(u["password"], user_id=u["id"])
    assert r.status_code == 201, describe(r)


def test_admin_unlocks_by_enabling(cloud):
    # Keystone: updating a locked user to enabled=true resets the lockout.
    u = cloud.create_user()
    for _ in range(2):
        cloud.login("wrong-password", user_id=u["id"])
    assert cloud.login(u["password"], user_id=u["id"]).status_code == 401
    cloud.patch("/v3/users/%s" % u["id"], json={"user": {"enabled": True}}, expect=200)
    r = cloud.login(u["password"], user_id=u["id"])
    assert r.status_code == 201, describe(r)


def test_lockout_does_not_touch_other_users(cloud):
    a, b = cloud.create_user(), cloud.create_user()
    for _ in range(3):
        cloud.login("wrong-password", user_id=a["id"])
    assert cloud.login(b["password"], user_id=b["id"]).status_code == 201


def test_lockout_keeps_existing_tokens(cloud):
    # Existing tokens stay valid while the account is locked.
    u = cloud.create_user()
    tok = cloud.token(u["password"], user_id=u["id"])
    for _ in range(2):
        cloud.login("wrong-password", user_id=u["id"])
    r = cloud.get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 200, describe(r)


# --- password history (shared instance) ---------------------------------------------------

def test_password_history(cloud):
    u = cloud.create_user(password="history-pw-0")
    uid = u["id"]
    r = change_password(cloud, uid, "history-pw-0", "history-pw-1")
    assert r.status_code == 204, describe(r)
    # the current password and the one before it may not be reused
    r = change_password(cloud, uid, "history-pw-1", "history-pw-1")
    assert r.status_code == 400, describe(r)
    assert r.json()["error"]["title"] == "Bad Request", describe(r)
    r = change_password(cloud, uid, "history-pw-1", "history-pw-0")
    assert r.status_code == 400, describe(r)
    # still the old one after the refusals
    assert cloud.login("history-pw-1", user_id=uid).status_code == 201
    r = change_password(cloud, uid, "history-pw-1", "history-pw-2")
    assert r.status_code == 204, describe(r)
    # pw-0 is now 3 passwords back: allowed again
    r = change_password(cloud, uid, "history-pw-2", "history-pw-0")
    assert r.status_code == 204, describe(r)
    assert cloud.login("history-pw-0", user_id=uid).status_code == 201


def test_password_change_wrong_original_counts_as_failure(cloud):
    # A self-service change with a wrong original password is an
    # authentication failure (401), never a 400 that leaks information.
    u = cloud.create_user()
    r = change_password(cloud, u["id"], "not-the-password", "whatever-new-1")
    assert r.status_code == 401, describe(r)


# --- minimum password age and regex (own instance) ------------------------------------------

def test_password_regex_on_create(private_cloud):
    c = private_cloud
    r = c.post("/v3/users", json={"user": {"name": unique("u"), "password": "short"}})
    assert r.status_code == 400, describe(r)
    assert "Passwords must be at least 10 characters long." in r.json()["error"]["message"], \
        describe(r)
    r = c.post("/v3/users", json={"user": {"name": unique("u"), "password": "long-enough-pw"}})
    assert r.status_code == 201, describe(r)


def test_password_regex_on_update(private_cloud):
    c = private_cloud
    u = c.create_user(password="long-enough-pw")
    r = c.patch("/v3/users/%s" % u["id"], json={"user": {"password": "short"}})
    assert r.status_code == 400, describe(r)
    r = change_password(c, u["id"], "long-enough-pw", "short")
    assert r.status_code == 400, describe(r)
    assert c.login("long-enough-pw", user_id=u["id"]).status_code == 201


def test_minimum_password_age(private_cloud):
    # Keystone: the minimum age applies to passwords the user set itself;
    # a password set by an admin may be changed at once.
    c = private_cloud
    u = c.create_user(password="first-long-password")
    r = change_password(c, u["id"], "first-long-password", "second-long-password")
    assert r.status_code == 204, describe(r)
    # self-set just now: the next change must wait a day
    r = change_password(c, u["id"], "second-long-password", "third-long-password")
    assert r.status_code == 400, describe(r)
    assert r.json()["error"]["title"] == "Bad Request", describe(r)
    assert c.login("second-long-password", user_id=u["id"]).status_code == 201
    # an admin reset is not bound by the minimum age, and frees the user again
    c.patch("/v3/users/%s" % u["id"], json={"user": {"password": "admin-reset-password"}},
            expect=200)
    assert c.login("admin-reset-password", user_id=u["id"]).status_code == 201
    r = change_password(c, u["id"], "admin-reset-password", "fourth-long-password")
    assert r.status_code == 204, describe(r)
