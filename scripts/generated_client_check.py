"""A client generated from /api/openapi.json works (scripts/check-api-contract.sh runs this).

    python generated_client_check.py BASE_URL

Uses the package openapi-python-client generated (`chat_backend_client`) for every REST call of
the native dialect: two users register and log in, the first creates a group with the second and
opens a session; the message itself goes over the session's WebSocket (the native protocol sends
messages only there: method 40, acknowledged by event 21); then the second user reads the group
and its history back through the generated client. Exits non-zero, saying what went wrong, if any
step does not answer as documented.
"""

import json
import sys
import uuid

from chat_backend_client import AuthenticatedClient, Client
from chat_backend_client.api.native import (
    native_create_group,
    native_create_session,
    native_create_user,
    native_get_group,
    native_list_groups,
    native_list_messages,
    native_login,
)
from chat_backend_client.models import (
    NativeCreatedUser,
    NativeCredentials,
    NativeGroupJson,
    NativeLoginJson,
    NativeMessagePageJson,
    NativeNewGroup,
    NativeNewSession,
    NativeNewUser,
    NativeSessionJson,
)
from websockets.sync.client import connect

PASSWORD = "generated-client-1"


def expect(value, kind, what):
    if not isinstance(value, kind):
        sys.exit(f"generated client: {what} answered {value!r}, not a {kind.__name__}")
    return value


def account(base_url, name):
    public = Client(base_url=base_url, raise_on_unexpected_status=True)
    created = native_create_user.sync(
        client=public,
        body=NativeNewUser(username=name, password=PASSWORD, email=f"{name}@example.com"),
    )
    expect(created, NativeCreatedUser, f"native_create_user {name}")
    login = native_login.sync(client=public, body=NativeCredentials(username=name, password=PASSWORD))
    login = expect(login, NativeLoginJson, f"native_login {name}")
    client = AuthenticatedClient(base_url=base_url, token=login.token, raise_on_unexpected_status=True)
    return login.user_id, client


def main():
    base_url = sys.argv[1].rstrip("/")
    suffix = uuid.uuid4().hex[:8]
    alice_id, alice = account(base_url, f"alice{suffix}")
    bob_id, bob = account(base_url, f"bob{suffix}")

    group = native_create_group.sync(
        client=alice, body=NativeNewGroup(name=f"generated {suffix}", user_ids=[bob_id])
    )
    group = expect(group, NativeGroupJson, "native_create_group")

    session = native_create_session.sync(
        client=alice,
        body=NativeNewSession(device_id=suffix, platform="python", model="generated", name="check"),
    )
    session = expect(session, NativeSessionJson, "native_create_session")
    text = f"hello from a generated client {suffix}"
    with connect(session.messaging_url, open_timeout=10) as socket:
        socket.send(json.dumps({"method": 40, "body": {"group_id": group.id, "data": text}}))
        while True:
            event = json.loads(socket.recv(timeout=10))
            if event.get("type") == 21:
                break
            if event.get("type") == 99:
                sys.exit(f"generated client: the socket refused the message: {event}")

    groups = native_list_groups.sync(client=bob)
    if not isinstance(groups, list) or group.id not in [g.id for g in groups]:
        sys.exit(f"generated client: native_list_groups of the member answered {groups!r}")
    seen = expect(native_get_group.sync(group.id, client=bob), NativeGroupJson, "native_get_group")
    if sorted(seen.user_ids) != sorted([alice_id, bob_id]):
        sys.exit(f"generated client: native_get_group answered members {seen.user_ids}")
    page = native_list_messages.sync(group.id, client=bob, limit=10)
    page = expect(page, NativeMessagePageJson, "native_list_messages")
    found = [m for m in page.messages if m.data == text]
    if len(found) != 1 or found[0].user_id != alice_id:
        sys.exit(f"generated client: the history of {group.id} is {page!r}, without the message")
    print(
        f"==== generated client: alice {alice_id} and bob {bob_id} registered and logged in; "
        f"group {seen.id} ({len(seen.user_ids)} members); bob read message seq {found[0].seq}: {found[0].data!r}"
    )


if __name__ == "__main__":
    main()
