//! Streams through the very code the worker runs: watches with snapshots and lossless resume,
//! hibernation, change requests with ids and outcomes, remote validators.

#[path = "streams/client_cursor.rs"]
mod client_cursor;
#[path = "streams/client_session.rs"]
mod client_session;
#[path = "streams/requests.rs"]
mod requests;
#[path = "streams/resume.rs"]
mod resume;
#[path = "streams/validators.rs"]
mod validators;
#[path = "streams/watch.rs"]
mod watch;
