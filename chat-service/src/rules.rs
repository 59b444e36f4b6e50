//! Who may add whom to a group, and who may take whom out. Every store applies these.
//!
//! - Anyone may join a public group.
//! - A current member may add anyone to a group.
//! - A former member who left by themselves may rejoin (they were once let in, and went of
//!   their own accord); one the owner removed may not: a member has to add them back.
//! - Anyone else cannot join a private group: they need a member to add them.
//! - A member may leave; the owner, while a member, may also remove other members.
//! - Only the owner deletes a group.

use uuid::Uuid;

use crate::error::ChatError;

/// What the store knows about a group and the two people involved when someone joins or leaves.
#[derive(Debug, Clone, Copy)]
pub struct Membership {
    pub is_public: bool,
    pub owner: Option<Uuid>,
    pub actor_is_member: bool,
    pub user_is_member: bool,
    /// How the user's last membership ended; `None` while they are a member or if they never were.
    pub user_departure: Option<Departure>,
}

/// How a membership ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    /// The member left by themselves.
    Left,
    /// Someone else (the owner) removed them.
    Removed,
}

/// A person's row among a group's members, as a store reads it.
#[derive(Debug, Clone, Copy)]
pub struct MemberRow {
    /// They are a member now (they have not left since they last joined).
    pub active: bool,
    /// Someone else took them out when they last left.
    pub removed: bool,
}

impl Membership {
    /// What the rules need, from the group and the rows (if any) of the actor and the user.
    pub fn new(
        is_public: bool,
        owner: Option<Uuid>,
        actor: Option<MemberRow>,
        user: Option<MemberRow>,
    ) -> Self {
        let departure = user.filter(|row| !row.active).map(|row| {
            if row.removed {
                Departure::Removed
            } else {
                Departure::Left
            }
        });
        Membership {
            is_public,
            owner,
            actor_is_member: actor.is_some_and(|row| row.active),
            user_is_member: user.is_some_and(|row| row.active),
            user_departure: departure,
        }
    }
}

pub fn may_join(actor: Uuid, user: Uuid, state: &Membership) -> Result<(), ChatError> {
    if actor == user {
        if state.user_is_member || state.is_public {
            return Ok(());
        }
        return match state.user_departure {
            Some(Departure::Left) => Ok(()),
            Some(Departure::Removed) => Err(ChatError::Forbidden(
                "you were removed from this group: a member has to add you back".into(),
            )),
            None => Err(ChatError::Forbidden(
                "this group is private: a member has to add you".into(),
            )),
        };
    }
    if state.actor_is_member {
        Ok(())
    } else {
        Err(ChatError::NotAMember)
    }
}

pub fn may_remove(actor: Uuid, user: Uuid, state: &Membership) -> Result<(), ChatError> {
    if !state.user_is_member {
        return Err(if actor == user {
            ChatError::NotAMember
        } else {
            ChatError::Validation("that user is not a member of this group".into())
        });
    }
    if actor == user {
        return Ok(());
    }
    // An owner who left the group no longer manages it.
    if !state.actor_is_member {
        return Err(ChatError::NotAMember);
    }
    if state.owner == Some(actor) {
        Ok(())
    } else {
        Err(ChatError::Forbidden(
            "only the group's owner may remove other members".into(),
        ))
    }
}

/// Only a group's owner renames it.
pub fn may_rename(actor: Uuid, kind: &str, owner: Option<Uuid>) -> Result<(), ChatError> {
    if kind != "group" {
        return Err(ChatError::WrongKind(
            "only a group has a name to change".into(),
        ));
    }
    if owner == Some(actor) {
        Ok(())
    } else {
        Err(ChatError::Forbidden(
            "only the group's owner may rename it".into(),
        ))
    }
}

/// Only a group's owner deletes it.
pub fn may_delete(actor: Uuid, owner: Option<Uuid>) -> Result<(), ChatError> {
    if owner == Some(actor) {
        Ok(())
    } else {
        Err(ChatError::Forbidden(
            "only the group's owner may delete it".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Membership {
        Membership {
            is_public: false,
            owner: None,
            actor_is_member: false,
            user_is_member: false,
            user_departure: None,
        }
    }

    #[test]
    fn strangers_cannot_join_private_groups_but_former_members_can() {
        let me = Uuid::new_v4();
        assert!(may_join(me, me, &state()).is_err());
        assert!(
            may_join(
                me,
                me,
                &Membership {
                    user_departure: Some(Departure::Left),
                    ..state()
                }
            )
            .is_ok()
        );
        assert!(
            may_join(
                me,
                me,
                &Membership {
                    is_public: true,
                    ..state()
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn member_rows_say_how_a_membership_ended() {
        let row = |active, removed| Some(MemberRow { active, removed });
        let departure = |user| Membership::new(false, None, None, user).user_departure;
        assert_eq!(departure(None), None);
        assert_eq!(departure(row(true, false)), None);
        assert_eq!(departure(row(false, false)), Some(Departure::Left));
        assert_eq!(departure(row(false, true)), Some(Departure::Removed));
        let both = Membership::new(true, None, row(true, false), row(false, true));
        assert!(both.is_public && both.actor_is_member && !both.user_is_member);
    }

    #[test]
    fn removed_members_come_back_only_when_added_or_to_public_groups() {
        let (owner, me) = (Uuid::new_v4(), Uuid::new_v4());
        let removed = Membership {
            owner: Some(owner),
            user_departure: Some(Departure::Removed),
            ..state()
        };
        assert!(matches!(
            may_join(me, me, &removed),
            Err(ChatError::Forbidden(_))
        ));
        let added_by_a_member = Membership {
            actor_is_member: true,
            ..removed
        };
        assert!(may_join(owner, me, &added_by_a_member).is_ok());
        assert!(may_join(owner, me, &removed).is_err());
        let public = Membership {
            is_public: true,
            ..removed
        };
        assert!(may_join(me, me, &public).is_ok());
    }

    #[test]
    fn members_add_others_and_owners_remove_them() {
        let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(may_join(owner, other, &state()).is_err());
        assert!(
            may_join(
                owner,
                other,
                &Membership {
                    actor_is_member: true,
                    ..state()
                }
            )
            .is_ok()
        );
        let member = Membership {
            user_is_member: true,
            ..state()
        };
        assert!(may_remove(owner, other, &member).is_err());
        let owned = Membership {
            owner: Some(owner),
            actor_is_member: true,
            ..member
        };
        assert!(may_remove(owner, other, &owned).is_ok());
        let owner_left = Membership {
            actor_is_member: false,
            ..owned
        };
        assert!(may_remove(owner, other, &owner_left).is_err());
        assert!(may_remove(other, other, &member).is_ok());
        assert!(may_remove(other, other, &state()).is_err());
    }
}
