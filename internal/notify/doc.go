// Package notify delivers the notifications that alarm transitions owe,
// without losing one and without sending one twice where the receiver can
// tell duplicates apart.
//
// The path of a notification:
//
//  1. The alarm engine commits a transition and calls Outbox.OnTransition
//     inside the same store transaction. The outbox routes the transition
//     (the alarm's topics → the subscriptions whose filter matches the
//     message attributes alarm, severity and state → their channels) and
//     writes one outbox row per channel. Either the transition and all the
//     rows it owes commit, or none of them does.
//  2. The Worker claims due rows (state sending, claimed_at), sends each
//     through its channel's Notifier under the channel's timeout and
//     concurrency limit, and marks it sent, failed (the receiver answered
//     that it can never succeed), or pending again with an exponential,
//     jittered backoff (or the receiver's Retry-After). A row older than
//     notify.max_age expires.
//  3. A row left in sending by a crash is claimed again once its lease has
//     passed and is sent again with the same dedup key: PagerDuty folds it
//     into the same incident and OpsGenie into the same alert; for Slack,
//     email, webhook and SNS it is the one duplicate allowed, counted in
//     the row's resends column and in dpcops_notify_resends_total.
//
// Each integration lives in its own subpackage (slack, pagerduty,
// opsgenie, email, webhook, sns, inbox) behind the Notifier interface;
// package channels builds them from the spec. docs/notifications.md
// describes routing, payloads, retries and crash semantics.
package notify
