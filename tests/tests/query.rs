//! The query engine (issue 5): golden cases from `tests/testdata/query/*.txt` run through the
//! API layer (`GET /v1/entries?where=…`), and a property test that the cached result always
//! equals an uncached evaluation.

mod query {
    mod cache;
    mod golden;
}
