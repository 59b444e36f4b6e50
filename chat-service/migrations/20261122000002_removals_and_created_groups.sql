-- How a membership ended, what a group looked like when it was created, and an index for the
-- receipts of catch-up.
--
-- `members.removed_by`: who took the user out of the group; NULL while they are a member and
-- when they left by themselves. A removed user may come back only when a member adds them.
-- `conversation_events.payload`: for `group_created`, the group as created:
-- `{"name": …, "member_ids": […]}`, so that later changes do not rewrite history.
-- `messages_by_sender`: catch-up names a sender's latest message under another member's
-- watermark, one backwards index step per member.

ALTER TABLE members ADD COLUMN removed_by UUID;

-- Earlier removals, from their events: a leave stores the same time in both rows.
UPDATE members SET removed_by = (
    SELECT e.actor_id FROM conversation_events e
    WHERE e.conversation_id = members.conversation_id AND e.user_id = members.user_id
      AND e.kind = 'member_left' AND e.created_at = members.left_at
      AND e.actor_id <> members.user_id
    ORDER BY e.id DESC LIMIT 1)
WHERE left_at IS NOT NULL;

ALTER TABLE conversation_events ADD COLUMN payload JSONB;

-- Earlier groups: nothing renames a group yet, so its name is the one it was created with; its
-- first members are those whose first membership event is not a join (every later addition
-- records one), in the order the group listed them then (all joined at once, so by id).
UPDATE conversation_events SET payload = jsonb_build_object(
    'name', (SELECT c.name FROM conversations c WHERE c.id = conversation_events.conversation_id),
    'member_ids', COALESCE((
        SELECT jsonb_agg(m.user_id ORDER BY m.user_id) FROM members m
        WHERE m.conversation_id = conversation_events.conversation_id
          AND COALESCE((
              SELECT x.kind FROM conversation_events x
              WHERE x.conversation_id = m.conversation_id AND x.user_id = m.user_id
              ORDER BY x.id LIMIT 1), 'member_left') <> 'member_joined'), '[]'::jsonb))
WHERE kind = 'group_created';

CREATE INDEX messages_by_sender ON messages (conversation_id, sender_id, seq);
