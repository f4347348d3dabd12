//! Conformance of the register API with reg's wire protocol and semantics
//! (`shared/reference/reg-wire-protocol.md` §1, §2 and the test inventory of §5), driven through
//! the core's API layer with a simulated clock. One binary, one module per area.

mod conformance {
    mod connections;
    mod consumer;
    mod core_semantics;
    mod edge_table;
    mod limits;
    mod provider;
    mod restart;
    mod since;
    mod wire_rules;
}
