//! Who may add whom to a group, and who may take whom out. Every store applies these.
//!
//! - Anyone may join a public group.
//! - A current member may add anyone to a group.
//! - A former member may rejoin a group they left (they were once let in).
//! - Anyone else cannot join a private group: they need a member to add them.
//! - A member may leave; the owner, while a member, may also remove other members.

use uuid::Uuid;

use crate::error::ChatError;

/// What the store knows about a group and the two people involved when someone joins or leaves.
#[derive(Debug, Clone, Copy)]
pub struct Membership {
    pub is_public: bool,
    pub owner: Option<Uuid>,
    pub actor_is_member: bool,
    pub user_is_member: bool,
    pub user_was_member: bool,
}

pub fn may_join(actor: Uuid, user: Uuid, state: &Membership) -> Result<(), ChatError> {
    if actor == user {
        if state.user_is_member || state.is_public || state.user_was_member {
            return Ok(());
        }
        return Err(ChatError::Forbidden(
            "this group is private: a member has to add you".into(),
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Membership {
        Membership {
            is_public: false,
            owner: None,
            actor_is_member: false,
            user_is_member: false,
            user_was_member: false,
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
                    user_was_member: true,
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
