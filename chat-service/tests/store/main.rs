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
    public_groups_are_listed_for_anyone_by_number,
    only_the_owner_renames_a_group,
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
    concurrent_sends_across_conversations_keep_each_ones_order,
    a_send_the_database_rejects_does_not_fail_the_others,
    conversations_are_found_by_number,
    messages_carry_sender_and_conversation_numbers,
    history_pages_by_seq,
    history_pages_by_time,
    history_is_for_members_and_public_groups,
    receipts_only_move_forward_and_read_implies_delivered,
    receipts_need_a_member_and_a_message,
    a_send_moves_its_senders_watermarks_only_over_their_own_messages,
    a_batch_moves_a_senders_watermarks_only_over_their_own_messages,
    every_write_logs_its_event_for_exactly_its_recipients,
    writes_that_change_nothing_log_nothing,
    a_former_member_gets_their_leave_but_nothing_after_it,
    direct_messages_are_logged_for_both_people,
    log_pages_return_every_event_once_in_order,
    log_reads_stop_at_their_upper_bound,
    concurrent_log_reads_each_get_their_own_range,
    log_reads_narrow_recipients_to_the_users_asked_about,
    the_position_before_a_time_is_the_last_one_logged_before_it,
    a_new_relay_lease_resumes_from_what_was_published,
    positions_follow_commit_order_under_concurrent_senders,
    a_direct_conversation_is_one_per_pair,
    a_bot_conversation_is_one_per_pair_apart_from_the_direct_one,
    racing_creators_of_a_direct_conversation_get_one,
    latest_messages_show_each_conversation_once_newest_first,
    groups_are_found_by_their_external_id_which_is_unique,
    deleting_a_group_removes_everyone_then_frees_its_external_id,
    counts_leave_out_deleted_conversations,
    export_pages_every_message_in_seq_order,
);
