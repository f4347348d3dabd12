//! The one write pipeline and the host effects (issues 10 and 16): every write checked once
//! (sizes, TTL bounds, cycles over the resulting state), every listener and validator that
//! applies consulted, change requests bounded, and nothing lost or confused when a store write
//! fails while requests and sockets are held.

mod pipeline {
    mod checks;
    mod failures;
    mod state_bound;
}
