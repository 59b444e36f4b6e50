-- The Prosody server chat-bench measures next to the chat backend: XMPP group chat (MUC) with
-- every room archived (XEP-0313 on MUC), the peer that, like the product, keeps every message.
-- A template: bench/run.sh replaces @DATA@ (a fresh temporary directory) and @PORT@, and starts
--   prosody --config DIR/prosody.cfg.lua -F
-- in the foreground. Nothing of /etc/prosody or the system's service is read or touched.
--
-- Clients speak XMPP over WebSocket (RFC 7395, subprotocol "xmpp") at
--   ws://127.0.0.1:@PORT@/xmpp-websocket
-- log in with SASL ANONYMOUS (no accounts to create: a thousand logins cost nothing, as the
-- Socket.IO peer's have none either; anonymous users' own data is not stored, the rooms' is)
-- and join rooms of conference.localhost. Only loopback is listened on: no c2s, s2s or
-- component ports, no HTTPS.

data_path = "@DATA@"
-- Started as root, Prosody switches to the `prosody` user of the Debian package (run.sh gives
-- it the data directory); it never daemonizes with -F.
pidfile = "@DATA@/prosody.pid"

-- Warnings and errors to stdout, which run.sh writes to target/bench-results/logs/.
log = { { levels = { min = "warn" }, to = "console" } }

interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = {}
c2s_direct_tls_ports = {}
s2s_ports = {}
component_ports = {}
http_ports = { @PORT@ }
http_interfaces = { "127.0.0.1" }
https_ports = {}
https_interfaces = {}
-- Clients connect to 127.0.0.1, so the Host header names no virtual host.
http_default_host = "localhost"

network_backend = "epoll"
network_settings = {
	-- The default of 128 drops connections when a thousand arrive at once.
	tcp_backlog = 1024;
	-- TCP_NODELAY on client connections (Prosody leaves Nagle's algorithm on by default, which
	-- holds a small stanza back until the previous one is acknowledged), as the product's
	-- gateway and the Socket.IO peer do.
	nagle = false;
}

-- Measured at its best: nothing limits a client's rate. mod_limits (the per-connection byte
-- rate limit) is not loaded, no `limits` are set, and no room has a rate or occupant cap.
modules_enabled = {
	"disco";
	"ping";
	"saslauth";
	"websocket";
}
modules_disabled = { "s2s"; "limits"; "tls"; "offline"; "c2s_direct_tls" }

-- Plain ws:// on loopback: no certificates, and the WebSocket counts as secure.
c2s_require_encryption = false
s2s_require_encryption = false
consider_websocket_secure = true
allow_registration = false

-- Archives (and room configurations) in Prosody's own file storage under data_path: every
-- archived message is appended to its room's file, and stays there.
storage = "internal"
default_archive_policy = true
-- Rooms hold far more than the bench sends; no quota cuts an archive short.
storage_archive_item_limit = 1000000

VirtualHost "localhost"
	authentication = "anonymous"

Component "conference.localhost" "muc"
	modules_enabled = { "muc_mam" }
	-- A room exists, unlocked, as soon as its first member joins.
	muc_room_locking = false
	-- Persistent, so that a room emptied at the end of a run keeps its archive (a temporary
	-- room's archive is deleted with it).
	muc_room_default_persistent = true
	-- Every room is logged: the archive is on whatever a room's owner configures.
	muc_log_all_rooms = true
	muc_log_by_default = true
	muc_log_expires_after = "never"
	-- Live rooms kept in memory (default 100): the bench has up to 20,000 groups.
	muc_room_cache_size = 20000
