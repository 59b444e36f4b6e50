//! `chat-backend admin ...`: the operator's commands. Each is a gRPC client of the admin
//! services (`admin.v1`) of auth-service and chat-service, so that what it does takes effect
//! on the running servers exactly as the services' own calls do — a revoked session's token is
//! refused and its sockets close on every gateway replica.
//!
//! Where the services are:
//! - `--auth-url` / `--chat-url` (with `--admin-token` / `ADMIN_TOKEN`): a services deployment.
//! - otherwise the single-process server running on `--data-dir`, which writes its services'
//!   loopback URLs and a fresh admin token to `<data-dir>/admin.json` (readable by its owner
//!   only) while it runs;
//! - otherwise, when no server runs there, the command starts auth-service and chat-service
//!   on the data directory's stores inside itself, for the length of the command.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chat_proto::admin::auth_admin_client::AuthAdminClient;
use chat_proto::admin::chat_admin_client::ChatAdminClient;
use chat_proto::admin::{
    CloseSocketsRequest, CountUsersRequest, ExportMessagesRequest, FindUserRequest,
    ListSessionsRequest, RevokeSessionsRequest, SetPasswordRequest, StatsRequest,
};
use chat_proto::auth::{DeleteUserRequest, RegisterRequest, Session, User};
use chat_proto::chat::{Conversation, ConversationKind, ListConversationsRequest, Message};
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

use crate::Options;

/// The file a running single-process server keeps its services' URLs and admin token in.
pub const ADMIN_FILE: &str = "admin.json";

/// How long a command waits for a service to answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Messages per export page unless `--page-size` says otherwise.
const EXPORT_PAGE: u32 = 500;

/// Where the services are and how to talk to them.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminArgs {
    /// auth-service's gRPC URL, for a services deployment (with `--chat-url`). Without it the
    /// command works on the single-process server of `--data-dir`.
    #[arg(long, env = "AUTH_URL", requires = "chat_url")]
    pub auth_url: Option<String>,
    /// chat-service's gRPC URL, for a services deployment (with `--auth-url`).
    #[arg(long, env = "CHAT_URL", requires = "auth_url")]
    pub chat_url: Option<String>,
    /// The services' admin token (their `ADMIN_TOKEN`), with `--auth-url` / `--chat-url`.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Print the answer as JSON (one document; `export` always prints JSON Lines).
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum AdminCommand {
    /// Create, show, reset the password of, or delete a user.
    #[command(subcommand)]
    User(UserCommand),
    /// List or revoke a user's sessions (devices); revoking closes their sockets.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// The conversations a user is a member of.
    Conversations {
        /// The user: a UUID, a username or an email.
        user: String,
    },
    /// Every message of a conversation as JSON Lines (one message a line, in seq order), read
    /// a page at a time so that a conversation of any size streams.
    Export {
        /// The conversation: its UUID or its number.
        conversation: String,
        /// Messages read per page (at most 1000).
        #[arg(long, default_value_t = EXPORT_PAGE,
              value_parser = clap::value_parser!(u32).range(1..=1000))]
        page_size: u32,
    },
    /// Counts: users, conversations, messages, and online sessions per gateway node.
    Stats,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Creates a user (the same rules as registration).
    Create {
        username: String,
        #[arg(long, default_value = "")]
        email: String,
        #[command(flatten)]
        password: PasswordArgs,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        #[arg(long, default_value = "")]
        display_name: String,
    },
    /// Shows a user.
    Show {
        /// A UUID, a username or an email.
        user: String,
    },
    /// Sets a new password; the user's sessions stay (revoke them with `sessions revoke`).
    ResetPassword {
        /// A UUID, a username or an email.
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
    },
    /// Deletes a user softly: their messages keep their sender, their username and email are
    /// free again, their sessions are revoked and their sockets closed.
    Delete {
        /// A UUID, a username or an email.
        user: String,
    },
}

/// A password: on the command line (visible to other local users in the process list) or,
/// better, read from the first line of standard input.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
pub struct PasswordArgs {
    /// The password.
    #[arg(long)]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum SessionsCommand {
    /// The user's live sessions, oldest first.
    List {
        /// A UUID, a username or an email.
        user: String,
    },
    /// Revokes sessions: their tokens are refused from now on and their sockets close (1008)
    /// on every gateway replica.
    Revoke {
        /// A UUID, a username or an email.
        user: String,
        /// The sessions to revoke, by id.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        session_ids: Vec<String>,
        /// Revoke every live session of the user.
        #[arg(long)]
        all: bool,
    },
}

/// Sends the admin token with every call.
#[derive(Clone)]
struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

type Auth = AuthAdminClient<InterceptedService<Channel, Bearer>>;
type Chat = ChatAdminClient<InterceptedService<Channel, Bearer>>;

/// The admin clients, and the services this command started itself, if any.
struct Clients {
    auth: Auth,
    chat: Chat,
    auth_url: String,
    chat_url: String,
    local: Option<LocalServices>,
}

/// What a running single-process server writes to `<data-dir>/admin.json`.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct AdminFile {
    pub auth_url: String,
    pub chat_url: String,
    pub admin_token: String,
    pub pid: u32,
}

/// Writes `admin.json` for a server that runs: readable by its owner only, replacing any left
/// over by a server that did not stop cleanly.
pub(crate) fn write_admin_file(data_dir: &Path, file: &AdminFile) -> anyhow::Result<PathBuf> {
    let path = data_dir.join(ADMIN_FILE);
    let text = serde_json::to_string_pretty(file)?;
    let temporary = data_dir.join(format!("{ADMIN_FILE}.{}", std::process::id()));
    crate::secret::write_private_replacing(&temporary, &text)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Runs `args` and prints its answer; an error says what went wrong, for stderr.
pub async fn run(options: &Options, args: AdminArgs) -> anyhow::Result<()> {
    let clients = connect(options, &args).await?;
    let mut out = std::io::stdout().lock();
    let result = execute(&clients, &args, &mut out).await;
    if let Some(local) = clients.local {
        local.stop().await;
    }
    match result {
        Err(error)
            if error
                .downcast_ref::<std::io::Error>()
                .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // `export ... | head`: the reader has what it wanted.
            Ok(())
        }
        other => other,
    }
}

async fn connect(options: &Options, args: &AdminArgs) -> anyhow::Result<Clients> {
    if let (Some(auth_url), Some(chat_url)) = (&args.auth_url, &args.chat_url) {
        let token = args
            .admin_token
            .as_deref()
            .filter(|t| !t.is_empty())
            .context(
                "--admin-token (or ADMIN_TOKEN) is required with --auth-url and --chat-url: the \
             ADMIN_TOKEN the services were started with",
            )?;
        return clients(auth_url, chat_url, token, None).await;
    }
    let path = options.data_dir.join(ADMIN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: AdminFile = serde_json::from_str(&text)
                .with_context(|| format!("{} is not what chat-backend writes", path.display()))?;
            match clients(&file.auth_url, &file.chat_url, &file.admin_token, None).await {
                Ok(clients) => return Ok(clients),
                // Left over by a server that did not stop cleanly: nobody listens there.
                Err(error) if error.downcast_ref::<Unreachable>().is_some() => {}
                Err(error) => return Err(error),
            }
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", path.display()));
        }
    }
    let local = LocalServices::start(options).await?;
    let (auth_url, chat_url, token) = (
        local.auth_url.clone(),
        local.chat_url.clone(),
        local.token.clone(),
    );
    clients(&auth_url, &chat_url, &token, Some(local)).await
}

/// No service answers at a URL (nothing listens there).
#[derive(Debug, thiserror::Error)]
#[error("cannot reach {what} at {url}: {cause}")]
struct Unreachable {
    what: &'static str,
    url: String,
    cause: String,
}

async fn channel(what: &'static str, url: &str) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|error| anyhow::anyhow!("{url:?} is not a URL of {what}: {error}"))?
        .connect_timeout(Duration::from_secs(3))
        .timeout(CALL_TIMEOUT);
    endpoint.connect().await.map_err(|error| {
        let mut cause = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            cause = format!("{cause}: {inner}");
            source = inner.source();
        }
        Unreachable {
            what,
            url: url.to_owned(),
            cause,
        }
        .into()
    })
}

async fn clients(
    auth_url: &str,
    chat_url: &str,
    token: &str,
    local: Option<LocalServices>,
) -> anyhow::Result<Clients> {
    let bearer = Bearer(
        format!("Bearer {token}")
            .parse()
            .context("the admin token must be printable ASCII")?,
    );
    let auth =
        AuthAdminClient::with_interceptor(channel("auth-service", auth_url).await?, bearer.clone());
    let chat = ChatAdminClient::with_interceptor(channel("chat-service", chat_url).await?, bearer);
    Ok(Clients {
        auth,
        chat,
        auth_url: auth_url.to_owned(),
        chat_url: chat_url.to_owned(),
        local,
    })
}

/// auth-service and chat-service started by the command itself on the data directory's
/// stores, when no server runs there. Nobody is online then, and there are no sockets to
/// close; chat-service runs without its log relay (events it writes are relayed by the next
/// server to start).
struct LocalServices {
    auth_url: String,
    chat_url: String,
    token: String,
    stop: watch::Sender<bool>,
    tasks: JoinSet<anyhow::Result<()>>,
}

impl LocalServices {
    async fn start(options: &Options) -> anyhow::Result<Self> {
        let token = crate::random_hex(32);
        let (stop, stopped) = watch::channel(false);
        let (auth_listener, auth_url) = crate::loopback().await?;
        let (chat_listener, chat_url) = crate::loopback().await?;
        // Tokens are never issued here (no logins), so the key only has to be valid.
        let tokens = crate::token_settings(crate::random_hex(32).into_bytes(), options);
        let mut tasks = JoinSet::new();
        let listeners = (auth_listener, chat_listener);
        match &options.database_url {
            Some(url) => {
                let auth = auth_service::PgAuthStore::connect(url, 2).await?;
                let chat = chat_service::PgChatStore::connect(url, 2).await?;
                spawn_local(&mut tasks, listeners, auth, chat, tokens, &token, &stopped);
            }
            None => {
                let auth_path = options.data_dir.join("auth.sqlite3");
                anyhow::ensure!(
                    auth_path.exists(),
                    "no chat-backend data in {} (no auth.sqlite3 there): give the --data-dir \
                     the server runs with, or --auth-url and --chat-url for a services deployment",
                    options.data_dir.display()
                );
                let auth = auth_service::SqliteAuthStore::open(&auth_path).await?;
                let chat_path = options.data_dir.join("chat.sqlite3");
                let chat = chat_service::SqliteChatStore::open(&chat_path).await?;
                spawn_local(&mut tasks, listeners, auth, chat, tokens, &token, &stopped);
            }
        }
        Ok(LocalServices {
            auth_url,
            chat_url,
            token,
            stop,
            tasks,
        })
    }

    async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
    }
}

/// Serves `auth` and `chat` (without the log relay) on the listeners until `stopped`.
fn spawn_local<A: auth_service::AuthStore, C: chat_service::ChatStore>(
    tasks: &mut JoinSet<anyhow::Result<()>>,
    (auth_listener, chat_listener): (tokio::net::TcpListener, tokio::net::TcpListener),
    auth: A,
    chat: C,
    tokens: auth_service::TokenSettings,
    token: &str,
    stopped: &watch::Receiver<bool>,
) {
    let service = auth_service::AuthService::new(auth, tokens);
    let (token1, token2) = (token.to_owned(), token.to_owned());
    let stopped1 = crate::when_stopped(stopped.clone());
    tasks.spawn(async move {
        auth_service::serve_with_admin(auth_listener, service, Some(&token1), stopped1).await
    });
    let written = std::sync::Arc::new(tokio::sync::Notify::new());
    let stopped2 = crate::when_stopped(stopped.clone());
    tasks.spawn(async move {
        chat_service::serve_without_relay(
            chat_listener,
            chat,
            None,
            written,
            Some(&token2),
            stopped2,
        )
        .await
    });
}

/// What a failed call means to the operator.
fn failed(status: Status, what: &str, url: &str) -> anyhow::Error {
    let message = status.message();
    match status.code() {
        Code::Unauthenticated => anyhow::anyhow!(
            "{what} at {url} refused the admin token ({message}): give the ADMIN_TOKEN it runs with"
        ),
        Code::PermissionDenied => anyhow::anyhow!("{what} at {url}: {message}"),
        Code::Unavailable | Code::DeadlineExceeded | Code::Unknown => {
            anyhow::anyhow!("cannot reach {what} at {url}: {message}")
        }
        Code::Unimplemented => anyhow::anyhow!(
            "{what} at {url} has no admin service: it predates `chat-backend admin`"
        ),
        _ => anyhow::anyhow!("{message}"),
    }
}

fn auth_failed(clients: &Clients) -> impl Fn(Status) -> anyhow::Error + '_ {
    |status| failed(status, "auth-service", &clients.auth_url)
}

fn chat_failed(clients: &Clients) -> impl Fn(Status) -> anyhow::Error + '_ {
    |status| failed(status, "chat-service", &clients.chat_url)
}

async fn find_user(clients: &Clients, user: &str) -> anyhow::Result<User> {
    let found = clients
        .auth
        .clone()
        .find_user(FindUserRequest {
            user: user.to_owned(),
        })
        .await;
    match found {
        Ok(response) => Ok(response.into_inner()),
        Err(status) if status.code() == Code::NotFound => {
            anyhow::bail!("no user {user:?} (give a user's UUID, username or email)")
        }
        Err(status) => Err(auth_failed(clients)(status)),
    }
}

fn read_password(password: &PasswordArgs) -> anyhow::Result<String> {
    if let Some(password) = &password.password {
        return Ok(password.clone());
    }
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "number": user.number,
        "username": user.username,
        "email": (!user.email.is_empty()).then_some(&user.email),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name,
        "created_at": time(user.created_at_ms),
    })
}

fn session_json(session: &Session) -> Value {
    json!({
        "id": session.id,
        "connection_id": session.connection_id,
        "device_id": session.device_id,
        "platform": session.platform,
        "model": session.model,
        "build": session.build,
        "name": session.name,
        "created_at": time(session.created_at_ms),
    })
}

fn kind_name(kind: i32) -> &'static str {
    match ConversationKind::try_from(kind) {
        Ok(ConversationKind::Direct) => "direct",
        Ok(ConversationKind::Group) => "group",
        Ok(ConversationKind::Bot) => "bot",
        _ => "unknown",
    }
}

fn conversation_json(conversation: &Conversation) -> Value {
    json!({
        "id": conversation.id,
        "number": conversation.number,
        "kind": kind_name(conversation.kind),
        "name": conversation.name,
        "owner_id": (!conversation.owner_id.is_empty()).then_some(&conversation.owner_id),
        "is_public": conversation.is_public,
        "members": conversation.members.iter().map(|m| &m.user_id).collect::<Vec<_>>(),
        "last_seq": conversation.last_seq,
        "created_at": time(conversation.created_at_ms),
        "updated_at": time(conversation.updated_at_ms),
    })
}

fn message_json(message: &Message, sender: Option<&str>) -> Value {
    json!({
        "seq": message.seq,
        "id": message.id,
        "number": message.number,
        "conversation_id": message.conversation_id,
        "sender_id": message.sender_id,
        "sender_number": message.sender_number,
        "sender_username": sender,
        "time": time(message.created_at_ms),
        "created_at_ms": message.created_at_ms,
        "text": message.body,
        "client_message_id": (!message.client_message_id.is_empty())
            .then_some(&message.client_message_id),
    })
}

fn print_json(out: &mut impl Write, value: &Value) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

fn print_user(out: &mut impl Write, user: &User) -> anyhow::Result<()> {
    writeln!(out, "id          {}", user.id)?;
    writeln!(out, "number      {}", user.number)?;
    writeln!(out, "username    {}", user.username)?;
    if !user.email.is_empty() {
        writeln!(out, "email       {}", user.email)?;
    }
    let name = format!("{} {}", user.first_name, user.last_name);
    if !name.trim().is_empty() {
        writeln!(out, "name        {}", name.trim())?;
    }
    writeln!(out, "created at  {}", time(user.created_at_ms))?;
    Ok(())
}

async fn execute(clients: &Clients, args: &AdminArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let json = args.json;
    match &args.command {
        AdminCommand::User(UserCommand::Create {
            username,
            email,
            password,
            first_name,
            last_name,
            display_name,
        }) => {
            let password = read_password(password)?;
            let created = clients
                .auth
                .clone()
                .create_user(RegisterRequest {
                    username: username.clone(),
                    email: email.clone(),
                    password,
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                    display_name: display_name.clone(),
                    // People only: bot accounts are the gateways' own.
                    service_account: false,
                })
                .await;
            let user = match created {
                Ok(user) => user.into_inner(),
                Err(status) if status.code() == Code::InvalidArgument => {
                    anyhow::bail!("cannot create user {username:?}: {}", status.message())
                }
                Err(status) if status.code() == Code::AlreadyExists => {
                    anyhow::bail!("cannot create user {username:?}: {}", status.message())
                }
                Err(status) => return Err(auth_failed(clients)(status)),
            };
            if json {
                print_json(out, &user_json(&user))?;
            } else {
                writeln!(out, "user {} created", user.username)?;
                print_user(out, &user)?;
            }
        }
        AdminCommand::User(UserCommand::Show { user }) => {
            let user = find_user(clients, user).await?;
            if json {
                print_json(out, &user_json(&user))?;
            } else {
                print_user(out, &user)?;
            }
        }
        AdminCommand::User(UserCommand::ResetPassword { user, password }) => {
            let found = find_user(clients, user).await?;
            let password = read_password(password)?;
            let set = clients
                .auth
                .clone()
                .set_password(SetPasswordRequest {
                    user_id: found.id.clone(),
                    password,
                })
                .await;
            let user = match set {
                Ok(user) => user.into_inner(),
                Err(status) if status.code() == Code::InvalidArgument => {
                    anyhow::bail!("cannot set the password: {}", status.message())
                }
                Err(status) if status.code() == Code::NotFound => {
                    anyhow::bail!("no user {user:?}")
                }
                Err(status) => return Err(auth_failed(clients)(status)),
            };
            if json {
                print_json(
                    out,
                    &json!({"user": user_json(&user), "password_set": true}),
                )?;
            } else {
                writeln!(out, "password of {} set", user.username)?;
            }
        }
        AdminCommand::User(UserCommand::Delete { user }) => {
            let found = find_user(clients, user).await?;
            let deleted = clients
                .auth
                .clone()
                .delete_user(DeleteUserRequest {
                    user_id: found.id.clone(),
                })
                .await;
            let revoked = match deleted {
                Ok(revoked) => revoked.into_inner(),
                Err(status) if status.code() == Code::NotFound => {
                    anyhow::bail!("no user {user:?}")
                }
                Err(status) => return Err(auth_failed(clients)(status)),
            };
            close_sockets(clients, &found.id, Vec::new()).await?;
            if json {
                print_json(
                    out,
                    &json!({"user": user_json(&found), "deleted": true,
                            "revoked_sessions": revoked.session_ids}),
                )?;
            } else {
                writeln!(
                    out,
                    "user {} deleted; {} session(s) revoked and their sockets closed",
                    found.username,
                    revoked.session_ids.len()
                )?;
            }
        }
        AdminCommand::Sessions(SessionsCommand::List { user }) => {
            let found = find_user(clients, user).await?;
            let sessions = clients
                .auth
                .clone()
                .list_sessions(ListSessionsRequest {
                    user_id: found.id.clone(),
                })
                .await
                .map_err(auth_failed(clients))?
                .into_inner()
                .sessions;
            if json {
                print_json(
                    out,
                    &Value::Array(sessions.iter().map(session_json).collect()),
                )?;
            } else if sessions.is_empty() {
                writeln!(out, "{} has no live session", found.username)?;
            } else {
                writeln!(
                    out,
                    "{:<36}  {:<24}  {:<10}  name",
                    "session", "created at", "platform"
                )?;
                for session in &sessions {
                    writeln!(
                        out,
                        "{:<36}  {:<24}  {:<10}  {}",
                        session.id,
                        time(session.created_at_ms),
                        session.platform,
                        session.name
                    )?;
                }
            }
        }
        AdminCommand::Sessions(SessionsCommand::Revoke {
            user,
            session_ids,
            all,
        }) => {
            let found = find_user(clients, user).await?;
            let wanted = if *all {
                Vec::new()
            } else {
                session_ids.clone()
            };
            let revoked = clients
                .auth
                .clone()
                .revoke_sessions(RevokeSessionsRequest {
                    user_id: found.id.clone(),
                    session_ids: wanted,
                })
                .await;
            let revoked = match revoked {
                Ok(revoked) => revoked.into_inner(),
                Err(status) if status.code() == Code::NotFound => anyhow::bail!(
                    "nothing revoked: {} (see `admin sessions list {user}`)",
                    status.message()
                ),
                Err(status) => return Err(auth_failed(clients)(status)),
            };
            if !revoked.session_ids.is_empty() {
                close_sockets(clients, &found.id, revoked.session_ids.clone()).await?;
            }
            if json {
                print_json(out, &json!({"revoked": revoked.session_ids}))?;
            } else {
                writeln!(
                    out,
                    "{} session(s) of {} revoked; their sockets are closed",
                    revoked.session_ids.len(),
                    found.username
                )?;
                for id in &revoked.session_ids {
                    writeln!(out, "{id}")?;
                }
            }
        }
        AdminCommand::Conversations { user } => {
            let found = find_user(clients, user).await?;
            let conversations = clients
                .chat
                .clone()
                .list_user_conversations(ListConversationsRequest {
                    user_id: found.id.clone(),
                })
                .await
                .map_err(chat_failed(clients))?
                .into_inner()
                .conversations;
            if json {
                print_json(
                    out,
                    &Value::Array(conversations.iter().map(conversation_json).collect()),
                )?;
            } else if conversations.is_empty() {
                writeln!(out, "{} is in no conversation", found.username)?;
            } else {
                writeln!(
                    out,
                    "{:<36}  {:>6}  {:<6}  {:>7}  {:>8}  name",
                    "conversation", "number", "kind", "members", "messages"
                )?;
                for c in &conversations {
                    writeln!(
                        out,
                        "{:<36}  {:>6}  {:<6}  {:>7}  {:>8}  {}",
                        c.id,
                        c.number,
                        kind_name(c.kind),
                        c.members.len(),
                        c.last_seq,
                        c.name
                    )?;
                }
            }
        }
        AdminCommand::Export {
            conversation,
            page_size,
        } => export(clients, conversation, *page_size, out).await?,
        AdminCommand::Stats => {
            let users = clients
                .auth
                .clone()
                .count_users(CountUsersRequest {})
                .await
                .map_err(auth_failed(clients))?
                .into_inner()
                .users;
            let stats = clients
                .chat
                .clone()
                .stats(StatsRequest {})
                .await
                .map_err(chat_failed(clients))?
                .into_inner();
            if json {
                let online: Vec<Value> = stats
                    .online
                    .iter()
                    .map(|node| json!({"node": node.node_id, "sessions": node.sessions}))
                    .collect();
                print_json(
                    out,
                    &json!({
                        "users": users,
                        "conversations": stats.conversations,
                        "messages": stats.messages,
                        "online": online,
                    }),
                )?;
            } else {
                writeln!(out, "users          {users}")?;
                writeln!(out, "conversations  {}", stats.conversations)?;
                writeln!(out, "messages       {}", stats.messages)?;
                if stats.online.is_empty() {
                    writeln!(out, "online         none")?;
                }
                for node in &stats.online {
                    writeln!(
                        out,
                        "online         {} session(s) on {}",
                        node.sessions, node.node_id
                    )?;
                }
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Closes the user's sockets (of `session_ids`, or all) on every gateway replica.
async fn close_sockets(
    clients: &Clients,
    user_id: &str,
    session_ids: Vec<String>,
) -> anyhow::Result<()> {
    clients
        .chat
        .clone()
        .close_sockets(CloseSocketsRequest {
            user_id: user_id.to_owned(),
            session_ids,
        })
        .await
        .map_err(|status| {
            anyhow::anyhow!(
                "revoked, but the sockets could not be closed ({}); their tokens are refused \
                 and they close when they next reconnect",
                chat_failed(clients)(status)
            )
        })?;
    Ok(())
}

/// Prints every message of `conversation` a line each, a page at a time.
async fn export(
    clients: &Clients,
    conversation: &str,
    page_size: u32,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut request = match conversation.parse::<i64>() {
        Ok(number) if number > 0 => ExportMessagesRequest {
            number,
            ..ExportMessagesRequest::default()
        },
        _ => ExportMessagesRequest {
            conversation_id: conversation.to_owned(),
            ..ExportMessagesRequest::default()
        },
    };
    request.limit = page_size;
    let mut usernames: HashMap<String, Option<String>> = HashMap::new();
    loop {
        let page = match clients.chat.clone().export_messages(request.clone()).await {
            Ok(page) => page.into_inner(),
            Err(status) if status.code() == Code::NotFound => {
                anyhow::bail!("no conversation {conversation:?} (give its UUID or its number)")
            }
            Err(status) => return Err(chat_failed(clients)(status)),
        };
        for message in &page.messages {
            if !usernames.contains_key(&message.sender_id) {
                let username = clients
                    .auth
                    .clone()
                    .find_user(FindUserRequest {
                        user: message.sender_id.clone(),
                    })
                    .await
                    .ok()
                    .map(|user| user.into_inner().username);
                usernames.insert(message.sender_id.clone(), username);
            }
            let sender = usernames.get(&message.sender_id).cloned().flatten();
            serde_json::to_writer(&mut *out, &message_json(message, sender.as_deref()))?;
            writeln!(out)?;
        }
        out.flush()?;
        match page.messages.last() {
            Some(last) if page.has_more => {
                request.after_seq = last.seq;
                request.conversation_id = page.conversation_id;
                request.number = 0;
            }
            _ => return Ok(()),
        }
    }
}
