//! The membership history of groups (`conversation_events`): who created, joined and left a
//! group, and what a group looked like when it was created. It is an audit trail kept next to
//! the members table; what clients receive and catch up on comes from the event log
//! ([`crate::log`]).

use chat_proto::chat::Conversation;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ChatError;

/// A membership event as a store records it.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    /// `group_created`, `member_joined` or `member_left`.
    pub kind: &'a str,
    /// Who joined or left.
    pub user: Option<Uuid>,
    pub actor: Uuid,
    /// A [`CreatedGroup`] as JSON, for `group_created`.
    pub payload: Option<&'a str>,
}

impl<'a> NewEvent<'a> {
    /// A group's creation by `actor`, with the group as created ([`CreatedGroup`] as JSON).
    pub fn created(actor: Uuid, payload: &'a str) -> Self {
        NewEvent {
            kind: "group_created",
            user: None,
            actor,
            payload: Some(payload),
        }
    }

    pub fn joined(user: Uuid, actor: Uuid) -> Self {
        NewEvent {
            kind: "member_joined",
            user: Some(user),
            actor,
            payload: None,
        }
    }

    pub fn left(user: Uuid, actor: Uuid) -> Self {
        NewEvent {
            kind: "member_left",
            user: Some(user),
            actor,
            payload: None,
        }
    }
}

/// What a `group_created` event stores: the group as it was created, so that later renames,
/// additions and removals do not change what catch-up shows of its creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedGroup {
    pub name: String,
    pub member_ids: Vec<Uuid>,
}

impl CreatedGroup {
    /// The event's payload for a group just created, its members as the store lists them.
    pub fn of(group: &Conversation) -> Result<Self, ChatError> {
        let member_ids = group
            .members
            .iter()
            .map(|member| Uuid::parse_str(&member.user_id))
            .collect::<Result<_, _>>()
            .map_err(|error| ChatError::Internal(error.into()))?;
        Ok(CreatedGroup {
            name: group.name.clone(),
            member_ids,
        })
    }

    pub fn to_json(&self) -> Result<String, ChatError> {
        serde_json::to_string(self).map_err(|error| ChatError::Internal(error.into()))
    }

    pub fn from_json(payload: Option<&str>) -> Result<Self, ChatError> {
        let payload = payload.ok_or_else(|| {
            ChatError::Internal(anyhow::anyhow!("group-created event without payload"))
        })?;
        serde_json::from_str(payload).map_err(|error| ChatError::Internal(error.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_groups_round_trip_through_their_payload() {
        let created = CreatedGroup {
            name: "Team".into(),
            member_ids: vec![Uuid::new_v4(), Uuid::new_v4()],
        };
        let json = created.to_json().unwrap();
        assert_eq!(CreatedGroup::from_json(Some(&json)).unwrap(), created);
        assert!(CreatedGroup::from_json(None).is_err());
        assert!(CreatedGroup::from_json(Some("{}")).is_err());
    }
}
