//! Versioned history (issue 3): the laws of squash, reverse, delta, navigation and rollback as
//! property tests over random operation sequences, plus the `/v1` history API.

mod history {
    mod api;
    mod laws;
}
