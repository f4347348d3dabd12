//! Access control inside the registry (issue 11): the principal the host authorized is checked
//! on every write in the one pipeline and filters every read, over HTTP, long polls and
//! streams. Each refusal is checked to change nothing, and each filter has a positive control
//! (an unrestricted principal sees what the scoped one must not).

mod access {
    mod reads;
    mod streams;
    mod writes;
}
