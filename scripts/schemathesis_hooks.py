"""Schemathesis hooks of scripts/check-api-contract.sh: real credentials for every dialect.

Each dialect's account is made through that dialect's own routes, against the server under test
(CHAT_BASE_URL):

- native:    POST /users, POST /login                       -> `Authorization: Bearer <JWT>`
- echat:     POST /v1/register                              -> `Authorization: Bearer <session_id>`
- messenger: POST /api/auth/register, POST /api/auth/login  -> `Authorization: Bearer <JWT>`
- webapp:    POST /http/register, the link of the mail the server wrote under
             CHAT_DATA_DIR/mail/, GET /http/register/{token}, POST /http/login
                                                            -> `authentication: <token>`
- platform:  the API key of `chat-backend platform create` (CHAT_PLATFORM_KEY) on POST /token;
             the user token POST /token answers on the platform user's routes (/keys, /messages)

The operation's tag says which dialect's credentials it gets. Two kinds of operation name their
credential in the path, and get a real one there too: the native WebSocket (`GET
/{connection_id}`, the connection id of a new session's `messaging_url`), and the messenger's
`/api/users/{id}` (the caller's own id, for every even id generated; other ids stay, for the
403 of someone else's account). An operation that ends the
credentials it was given (a logout, deleting the account) marks them spent, and the next case
of that dialect makes a new account, so that one logout does not leave the rest of the run
unauthenticated.
"""

import glob
import os
import re
import threading
import uuid

import requests
import schemathesis

BASE_URL = os.environ["CHAT_BASE_URL"].rstrip("/")
DATA_DIR = os.environ["CHAT_DATA_DIR"]
PLATFORM_KEY = os.environ["CHAT_PLATFORM_KEY"]
PASSWORD = "contract-password-1"

# Operations that end the credentials they are called with, when they succeed.
SPENDING = {
    "native_delete_session",
    "echat_logout",
    "messenger_logout",
    "messenger_delete_me",
    "messenger_delete_by_id",
    "messenger_update_me",
    "messenger_update_me_put",
    "messenger_update_by_id",
    "messenger_update_by_id_put",
    "webapp_logout",
    "webapp_update_profile",
}

_lock = threading.Lock()
_credentials = {}


def _post(path, body, **kwargs):
    response = requests.post(f"{BASE_URL}{path}", json=body, timeout=30, **kwargs)
    if response.status_code >= 300:
        raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
    return response.json()


def _name():
    return "st" + uuid.uuid4().hex[:12]


def _native():
    name = _name()
    _post("/users", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return {"Authorization": "Bearer " + _post("/login", {"username": name, "password": PASSWORD})["token"]}


def _echat():
    session = _post("/v1/register", {"login": _name(), "password": PASSWORD})["session_id"]
    return {"Authorization": f"Bearer {session}"}


def _messenger():
    email = f"{_name()}@example.com"
    user = _post("/api/auth/register", {"email": email, "password": PASSWORD, "firstName": "Contract", "lastName": "Test"})
    token = _post("/api/auth/login", {"email": email, "password": PASSWORD})["token"]
    return {"Authorization": f"Bearer {token}", "id": user["id"]}


def _native_connection(native):
    """The connection id of a new session of the native account: `GET /{connection_id}`."""
    session = _post(
        "/sessions",
        {"device_id": "contract", "platform": "web", "model": "schemathesis", "name": "contract"},
        headers={"Authorization": native["Authorization"]},
    )
    return session["messaging_url"].rsplit("/", 1)[1]


def _webapp():
    email = f"{_name()}@example.com"
    _post("/http/register", {"email": email, "password": PASSWORD, "first_name": "Contract", "last_name": "Test"})
    token = None
    for path in glob.glob(os.path.join(DATA_DIR, "mail", "*.eml")):
        with open(path, encoding="utf-8", errors="replace") as mail:
            text = mail.read().replace("=\r\n", "").replace("=\n", "")
        if email in text:
            found = re.search(r"/http/register/([A-Za-z0-9_-]+)", text)
            if found:
                token = found.group(1)
    if token is None:
        raise RuntimeError(f"no confirmation mail for {email} under {DATA_DIR}/mail")
    confirmed = requests.get(f"{BASE_URL}/http/register/{token}", timeout=30)
    if confirmed.status_code != 200:
        raise RuntimeError(f"GET /http/register/{token}: {confirmed.status_code} {confirmed.text}")
    token = _post("/http/login", {"email": email, "password": PASSWORD})["token"]
    return {"authentication": token}


def _platform_user():
    pair = _post("/token", {"userID": _name()}, headers={"Authorization": f"Bearer {PLATFORM_KEY}"})
    return {"Authorization": "Bearer " + pair["accessToken"]}


MAKERS = {
    "native": _native,
    "echat": _echat,
    "messenger": _messenger,
    "webapp": _webapp,
    "platform_user": _platform_user,
}


def _operation(case):
    raw = case.operation.definition.raw
    return raw.get("operationId", ""), (raw.get("tags") or [""])[0], raw.get("security")


def _kind(case):
    operation_id, tag, security = _operation(case)
    if operation_id == "native_open_socket":
        return "native_socket"
    schemes = {name for requirement in security or [] for name in requirement}
    if not schemes:
        return None
    if "platform_key" in schemes:
        return "platform_key"
    if tag == "platform":
        return "platform_user"
    return tag if tag in MAKERS else None


@schemathesis.auth(refresh_interval=None, retry_on=[])
class DialectAuth:
    def get(self, case, ctx):
        kind = _kind(case)
        if kind is None:
            return None
        if kind == "platform_key":
            return {"Authorization": f"Bearer {PLATFORM_KEY}"}
        with _lock:
            dialect = "native" if kind == "native_socket" else kind
            if dialect not in _credentials:
                _credentials[dialect] = MAKERS[dialect]()
            credentials = dict(_credentials[dialect])
        if kind == "native_socket":
            return {"path": {"connection_id": _native_connection(credentials)}}
        return credentials

    def set(self, case, data, ctx):
        data = dict(data)
        path = data.pop("path", {})
        own_id = data.pop("id", None)
        if own_id is not None and "id" in (case.path_parameters or {}):
            generated = str(case.path_parameters["id"])
            if generated.lstrip("-").isdigit() and int(generated) % 2 == 0:
                path["id"] = own_id
        if path:
            case.path_parameters = {**(case.path_parameters or {}), **path}
        if data:
            case.headers = case.headers or {}
            # Replaces whatever the generator put in the security scheme's header.
            for name in ("Authorization", "authentication"):
                case.headers.pop(name, None)
            case.headers.update(data)


@schemathesis.hook
def after_call(context, case, response):
    operation_id, _, _ = _operation(case)
    if operation_id in SPENDING and response.status_code < 300:
        with _lock:
            _credentials.pop(_kind(case), None)
