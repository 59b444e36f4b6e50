//! The built-in bot: a few questions about the product itself, answered from the services —
//! who is online (presence), the asker's unread messages (chat-service's read watermarks), the
//! public groups, the asker's own account, the time. Anything else gets a pointer to `help`.

use std::collections::HashMap;

use chat_proto::auth::{GetUsersRequest, User};
use chat_proto::chat::{ConversationKind, ListConversationsRequest, ListPublicGroupsRequest};
use tonic::Status;

use super::Asker;
use crate::state::AppState;

/// Most names or groups one answer lists.
const MOST_LISTED: usize = 30;

pub const HELP: &str = "I can tell you:\n\
    • online — who is online now\n\
    • unread — your unread messages, per room and group\n\
    • groups — the public chat groups\n\
    • me — your account\n\
    • time — the server's time (UTC)\n\
    • help — this list";

/// What the asker asks for.
#[derive(Debug, PartialEq, Eq)]
enum Question {
    Help,
    Online,
    Unread,
    Groups,
    Me,
    Time,
    Greeting,
    Unknown,
}

fn question(text: &str) -> Question {
    let folded = text.to_lowercase();
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let has = |wanted: &[&str]| words.iter().any(|w| wanted.contains(w));
    if words.is_empty() || has(&["help", "commands", "command"]) || folded.trim() == "?" {
        Question::Help
    } else if has(&["online", "who's"]) || folded.contains("who is on") {
        Question::Online
    } else if has(&["unread", "notifications", "notification", "new"]) {
        Question::Unread
    } else if has(&["groups", "group"]) {
        Question::Groups
    } else if has(&["me", "whoami", "profile", "account"]) || folded.contains("who am i") {
        Question::Me
    } else if has(&["time", "date", "clock"]) {
        Question::Time
    } else if has(&["hi", "hello", "hey", "hallo", "привет"]) {
        Question::Greeting
    } else {
        Question::Unknown
    }
}

/// The built-in bot's answer to `text` from `asker`.
pub async fn answer(state: &AppState, asker: &Asker, text: &str) -> Result<String, Status> {
    let me = &asker.user;
    Ok(match question(text) {
        Question::Help => HELP.to_owned(),
        Question::Greeting => format!(
            "Hello, {}! Send help for what I can do.",
            me.first_name.trim()
        ),
        Question::Online => online(state, me).await?,
        Question::Unread => unread(state, me).await?,
        Question::Groups => groups(state).await?,
        Question::Me => format!(
            "You are {} (user id {}), signed in as {}{}.",
            full_name(me),
            me.number,
            me.username,
            if me.email.is_empty() {
                String::new()
            } else {
                format!(", email {}", me.email)
            }
        ),
        Question::Time => format!(
            "It is {} (UTC).",
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")
        ),
        Question::Unknown => {
            let shown: String = text.trim().chars().take(60).collect();
            format!("I don't know what \"{shown}\" means. Send help for what I can do.")
        }
    })
}

fn full_name(user: &User) -> String {
    let name = format!("{} {}", user.first_name.trim(), user.last_name.trim());
    match name.trim() {
        "" => user.username.clone(),
        name => name.to_owned(),
    }
}

/// "a, b and c"
fn listed(names: &[String], total: usize) -> String {
    let mut shown = names.to_vec();
    if total > names.len() {
        shown.push(format!("{} more", total - names.len()));
    }
    match shown.len() {
        0 => String::new(),
        1 => shown[0].clone(),
        n => format!("{} and {}", shown[..n - 1].join(", "), shown[n - 1]),
    }
}

async fn online(state: &AppState, me: &User) -> Result<String, Status> {
    let people = crate::webapp::users::everyone_with_presence(state).await?;
    let mut others: Vec<String> = people
        .iter()
        .filter(|(user, online)| *online && user.id != me.id)
        .map(|(user, _)| full_name(user))
        .collect();
    let total = others.len();
    others.truncate(MOST_LISTED);
    Ok(match total {
        0 => "Nobody else is online right now.".to_owned(),
        1 => format!("1 other user is online: {}.", others[0]),
        n => format!("{n} other users are online: {}.", listed(&others, total)),
    })
}

async fn unread(state: &AppState, me: &User) -> Result<String, Status> {
    let conversations = state
        .services
        .chat
        .clone()
        .list_conversations(ListConversationsRequest {
            user_id: me.id.clone(),
        })
        .await?
        .into_inner()
        .conversations;
    let mut unread = Vec::new();
    for conversation in conversations {
        let kind = ConversationKind::try_from(conversation.kind);
        if !matches!(kind, Ok(ConversationKind::Direct | ConversationKind::Group)) {
            continue;
        }
        let read = conversation
            .members
            .iter()
            .find(|m| m.user_id == me.id)
            .map_or(0, |m| m.last_read_seq);
        let count = (conversation.last_seq - read).max(0);
        if count > 0 {
            unread.push((conversation, count));
        }
    }
    if unread.is_empty() {
        return Ok("You have no unread messages.".to_owned());
    }
    // The other person of each room, by name.
    let peers: Vec<String> = unread
        .iter()
        .filter(|(c, _)| c.kind == ConversationKind::Direct as i32)
        .filter_map(|(c, _)| c.members.iter().find(|m| m.user_id != me.id))
        .map(|m| m.user_id.clone())
        .collect();
    let names: HashMap<String, String> = if peers.is_empty() {
        HashMap::new()
    } else {
        state
            .services
            .auth
            .clone()
            .get_users(GetUsersRequest {
                user_ids: peers,
                numbers: Vec::new(),
            })
            .await?
            .into_inner()
            .users
            .into_iter()
            .map(|u| (u.id.clone(), full_name(&u)))
            .collect()
    };
    unread.sort_by_key(|(c, count)| (std::cmp::Reverse(*count), c.number));
    let total: i64 = unread.iter().map(|(_, count)| count).sum();
    let places = unread.len();
    let parts: Vec<String> = unread
        .iter()
        .take(MOST_LISTED)
        .map(|(c, count)| {
            if c.kind == ConversationKind::Direct as i32 {
                let peer = c.members.iter().find(|m| m.user_id != me.id);
                let name = peer
                    .and_then(|m| names.get(&m.user_id))
                    .map_or("someone", String::as_str);
                format!("{count} from {name} (room {})", c.number)
            } else {
                format!("{count} in \"{}\" (group {})", c.name, c.number)
            }
        })
        .collect();
    let messages = if total == 1 { "message" } else { "messages" };
    Ok(format!(
        "You have {total} unread {messages}: {}.",
        listed(&parts, places)
    ))
}

async fn groups(state: &AppState) -> Result<String, Status> {
    let groups = state
        .services
        .chat
        .clone()
        .list_public_groups(ListPublicGroupsRequest {})
        .await?
        .into_inner()
        .conversations;
    if groups.is_empty() {
        return Ok("There are no public groups yet.".to_owned());
    }
    let total = groups.len();
    let names: Vec<String> = groups
        .iter()
        .take(MOST_LISTED)
        .map(|g| format!("\"{}\" (group {})", g.name, g.number))
        .collect();
    let count = if total == 1 {
        "1 public group".to_owned()
    } else {
        format!("{total} public groups")
    };
    Ok(format!("{count}: {}.", listed(&names, total)))
}

#[cfg(test)]
mod tests {
    use super::{Question, question};

    #[test]
    fn questions_are_read_from_the_words_used() {
        assert_eq!(question("help"), Question::Help);
        assert_eq!(question("  "), Question::Help);
        assert_eq!(question("Who is online?"), Question::Online);
        assert_eq!(question("online"), Question::Online);
        assert_eq!(
            question("How many unread messages do I have"),
            Question::Unread
        );
        assert_eq!(question("groups"), Question::Groups);
        assert_eq!(question("who am I?"), Question::Me);
        assert_eq!(question("What time is it"), Question::Time);
        assert_eq!(question("Hello!"), Question::Greeting);
        assert_eq!(question("qwerty"), Question::Unknown);
    }
}
