-- The SQLite twin of migrations/20261122000002_removals_and_created_groups.sql: how a
-- membership ended (`members.removed_by`, NULL unless someone else took the user out), the group
-- as created (`conversation_events.payload`, JSON text `{"name": …, "member_ids": […]}`), and
-- the index catch-up's receipts use to find a sender's latest message under a watermark.

ALTER TABLE members ADD COLUMN removed_by TEXT;

-- Earlier removals, from their events: a leave stores the same time in both rows.
UPDATE members SET removed_by = (
    SELECT e.actor_id FROM conversation_events e
    WHERE e.conversation_id = members.conversation_id AND e.user_id = members.user_id
      AND e.kind = 'member_left' AND e.created_at = members.left_at
      AND e.actor_id <> members.user_id
    ORDER BY e.id DESC LIMIT 1)
WHERE left_at IS NOT NULL;

ALTER TABLE conversation_events ADD COLUMN payload TEXT;

-- Earlier groups: nothing renames a group yet, so its name is the one it was created with; its
-- first members are those whose first membership event is not a join (every later addition
-- records one), in the order the group listed them then (all joined at once, so by id).
UPDATE conversation_events SET payload = json_object(
    'name', (SELECT c.name FROM conversations c WHERE c.id = conversation_events.conversation_id),
    'member_ids', (
        SELECT json_group_array(user_id) FROM (
            SELECT m.user_id FROM members m
            WHERE m.conversation_id = conversation_events.conversation_id
              AND COALESCE((
                  SELECT x.kind FROM conversation_events x
                  WHERE x.conversation_id = m.conversation_id AND x.user_id = m.user_id
                  ORDER BY x.id LIMIT 1), 'member_left') <> 'member_joined'
            ORDER BY m.user_id)))
WHERE kind = 'group_created';

CREATE INDEX messages_by_sender ON messages (conversation_id, sender_id, seq);
