//! The bot behind every user's bot conversation (the web app's bot chat, seed 003). A bot is a
//! service account — `bot:assistant`, a user no person can be — that is a member of each bot
//! conversation; what it answers comes from the built-in bot ([`builtin`]: help, who is
//! online, unread counts, groups, …, from the real services) or from an external process
//! driven over gRPC ([`external`], `--bot <url>` / `BOT_URL`), which may leave a message to the
//! built-in bot by declining it. The gateway stores both messages, so the conversation is
//! paged, survives restarts and is seen by every dialect like any other.

pub mod builtin;
pub mod external;

use chat_proto::auth::{GetUsersRequest, RegisterRequest, SearchUsersRequest, User};
use chat_proto::chat::{Conversation, GetDirectConversationRequest, Message};
use tonic::{Code, Status};

use crate::state::AppState;

/// The service account of the bot, which every bot conversation is with.
pub const ACCOUNT_USERNAME: &str = "bot:assistant";
/// What starts the username of every service account (auth-service refuses it to people).
pub const SERVICE_ACCOUNT_PREFIX: &str = "bot:";
const ACCOUNT_FIRST_NAME: &str = "Chat";
const ACCOUNT_LAST_NAME: &str = "Bot";
/// Most bytes of a message (chat-service's limit), the bot's answers included.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;

/// Whether `username` is a service account's (a bot's), not a person's.
pub fn is_service_account(username: &str) -> bool {
    username.to_lowercase().starts_with(SERVICE_ACCOUNT_PREFIX)
}

/// Which bot answers: the built-in one, or an external process (which may decline messages
/// back to the built-in one).
#[derive(Clone, Debug, Default)]
pub enum BotChoice {
    #[default]
    BuiltIn,
    External(external::ExternalBot),
}

impl BotChoice {
    /// `--bot` / `BOT_URL`: none or empty is the built-in bot, else a BotService's gRPC URL.
    pub fn from_url(url: Option<&str>) -> anyhow::Result<Self> {
        match url.map(str::trim).filter(|url| !url.is_empty()) {
            None => Ok(Self::BuiltIn),
            Some(url) => Ok(Self::External(external::ExternalBot::connect_lazy(url)?)),
        }
    }
}

/// The user who wrote to the bot.
pub struct Asker {
    pub user: User,
}

/// The bot's service account: found, or registered by the first gateway that needs it (two
/// racing gateways both end up with the one that won). Cached for the replica's life.
pub async fn account(state: &AppState) -> Result<&User, Status> {
    state
        .bot_account
        .get_or_try_init(|| find_or_register(state))
        .await
}

async fn find(state: &AppState) -> Result<Option<User>, Status> {
    let found = state
        .services
        .auth
        .clone()
        .search_users(SearchUsersRequest {
            query: ACCOUNT_USERNAME.to_owned(),
            limit: 10,
        })
        .await?
        .into_inner()
        .users;
    Ok(found
        .into_iter()
        .find(|user| user.username.eq_ignore_ascii_case(ACCOUNT_USERNAME)))
}

async fn find_or_register(state: &AppState) -> Result<User, Status> {
    if let Some(found) = find(state).await? {
        return Ok(found);
    }
    // Nobody logs in as the bot: its password is random and forgotten at once.
    let password = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let registered = state
        .services
        .auth
        .clone()
        .register(RegisterRequest {
            username: ACCOUNT_USERNAME.to_owned(),
            password,
            first_name: ACCOUNT_FIRST_NAME.to_owned(),
            last_name: ACCOUNT_LAST_NAME.to_owned(),
            display_name: format!("{ACCOUNT_FIRST_NAME} {ACCOUNT_LAST_NAME}"),
            service_account: true,
            ..RegisterRequest::default()
        })
        .await;
    match registered {
        Ok(user) => {
            tracing::info!(
                number = user.get_ref().number,
                "the bot's account was created"
            );
            Ok(user.into_inner())
        }
        // Another gateway registered it in the meantime.
        Err(status) if status.code() == Code::AlreadyExists => find(state)
            .await?
            .ok_or_else(|| Status::internal("the bot's account is taken but not found")),
        Err(status) => Err(status),
    }
}

/// The user's bot conversation, created on first use.
pub async fn conversation(state: &AppState, user_id: &str) -> Result<Conversation, Status> {
    let bot = account(state).await?;
    let found = state
        .services
        .chat
        .clone()
        .get_direct_conversation(GetDirectConversationRequest {
            user_id: user_id.to_owned(),
            peer_id: bot.id.clone(),
            create: true,
            bot: true,
        })
        .await?;
    Ok(found.into_inner())
}

/// The user `user_id` as the bot sees them.
pub async fn asker(state: &AppState, user_id: &str) -> Result<Asker, Status> {
    let user = state
        .services
        .auth
        .clone()
        .get_users(GetUsersRequest {
            user_ids: vec![user_id.to_owned()],
            numbers: Vec::new(),
        })
        .await?
        .into_inner()
        .users
        .into_iter()
        .next()
        .ok_or_else(|| Status::not_found("no such user"))?;
    Ok(Asker { user })
}

/// What the bot answers to `message` (already stored): the external bot's answer, else the
/// built-in one's. Always an answer: a bot that is down or slow is said to be so.
pub async fn answer(state: &AppState, asker: &Asker, message: &Message) -> String {
    if let BotChoice::External(bot) = &state.options.bot {
        match bot.ask(asker, message).await {
            Ok(Some(answer)) => return answer,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "the external bot did not answer");
                return format!(
                    "Sorry, the bot is not available right now ({error}). Your message is \
                     saved; please try again in a moment."
                );
            }
        }
    }
    match builtin::answer(state, asker, &message.body).await {
        Ok(answer) => answer,
        Err(status) => {
            tracing::warn!(error = %status, "the built-in bot could not look something up");
            format!(
                "Sorry, I could not look that up just now ({}). Please try again.",
                status.message()
            )
        }
    }
}
