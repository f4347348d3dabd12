//! Transactions, listeners and dependency ordering (issue 4): golden ordering cases from
//! `tests/testdata/order/*.txt`, property tests over random dependency graphs, and the
//! `/v1/tx` API.

mod tx {
    mod api;
    mod golden;
    mod props;
}
