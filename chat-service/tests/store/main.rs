//! The `ChatStore` conformance suite: every case is written once, over any `S: ChatStore`, and
//! runs against each backend (`postgres::case`, `sqlite::case`), so the backends cannot drift.

mod backends;
mod conformance;
mod sqlite_only;

/// One `#[tokio::test]` per case per backend, each on a fresh database of its own.
macro_rules! conformance_suite {
    ($($case:ident),* $(,)?) => {
        conformance_suite!(@backend postgres, crate::backends::Postgres, $($case),*);
        conformance_suite!(@backend sqlite, crate::backends::Sqlite, $($case),*);
    };
    (@backend $module:ident, $backend:ty, $($case:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = <$backend>::start().await;
                    crate::conformance::$case(backend.store.clone()).await;
                    backend.remove().await;
                }
            )*
        }
    };
}

conformance_suite!(
    creating_a_group_makes_the_creator_its_owner,
    strangers_join_public_groups_but_not_private_ones,
    members_add_others_and_former_members_rejoin,
    only_the_owner_removes_others,
    removed_members_come_back_only_when_added,
    membership_of_unknown_conversations_is_refused,
    conversations_are_listed_and_shown_to_their_readers,
    sends_are_numbered_one_to_n,
    retries_with_the_same_client_message_id_store_one_message,
    sends_by_non_members_and_to_unknown_conversations_are_refused,
    concurrent_senders_get_contiguous_seqs,
    concurrent_retries_store_one_message,
    conversations_are_found_by_number,
    messages_carry_sender_and_conversation_numbers,
    history_pages_by_seq,
    history_pages_by_time,
    history_is_for_members_and_public_groups,
    receipts_only_move_forward_and_read_implies_delivered,
    receipts_need_a_member_and_a_message,
    catch_up_replays_group_creation_memberships_and_messages,
    catch_up_shows_receipts_on_the_users_own_messages,
    catch_up_keeps_receipts_after_the_reader_replies,
    catch_up_receipts_name_the_users_latest_message_under_the_watermark,
    catch_up_shows_a_group_as_it_was_created,
    catch_up_pages_return_every_event_once_in_order,
    catch_up_of_a_former_member_stops_at_their_leave,
    a_direct_conversation_is_one_per_pair,
    racing_creators_of_a_direct_conversation_get_one,
    latest_messages_show_each_conversation_once_newest_first,
);
