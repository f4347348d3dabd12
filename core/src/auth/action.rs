//! What a request (or a stream message) does, for authorization: every endpoint family is one
//! [`Action`], and [`Action::of_request`] / [`Action::of_message`] are the only mapping from
//! paths and messages to actions, so each rule is written once.

use super::principal::Role;
use crate::stream::message::ClientMsg;

/// One family of endpoints (or stream messages) that share an authorization rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `GET /v1/health`, and paths that exist nowhere (the answer is then a 404 for anyone
    /// holding a token, never a hint to anyone without).
    Health,
    /// `GET /consumer`: registers, filtered to the scope.
    RegisterRead,
    /// `GET /v1/entries`, `GET /v1/entries/{id}`, `…/dependencies`: filtered / per id.
    EntryRead,
    /// `GET /v1/versions`, `GET /v1/versions/{v}`: changesets filtered to the scope.
    Versions,
    /// `GET /v1/diff`: filtered.
    Diff,
    /// `GET /v1/state`: filtered.
    State,
    /// `GET /v1/config`: the configuration entry, read under its id `registry:config`.
    ConfigRead,
    /// `GET /v1/watch` (SSE) and a `watch` / `unwatch` message: snapshot, backlog and live
    /// changes filtered to the scope.
    Watch,
    /// `GET /v1/ws`: opening the socket; each message is then checked on its own.
    Socket,
    /// `PUT /consumer`, `POST /v1/requests`, a `request` message: change requests for names in
    /// scope.
    RequestCreate,
    /// `GET /v1/requests/{id}`: the outcome of a request whose name is in scope.
    RequestOutcome,
    /// `PUT /provider`, a `provide` / `unprovide` message: publish registers in scope.
    ProviderPublish,
    /// `GET /provider`: take change requests (only those in scope).
    ProviderTake,
    /// `POST /v1/requests/{id}/verdict`, a `verdict` message: answer a request in scope.
    RequestVerdict,
    /// `PUT` / `DELETE /v1/entries/{id}`: entry writes in scope.
    EntryWrite,
    /// `POST /v1/tx`: every operation's id in scope.
    Transaction,
    /// `POST /v1/rollback`: the whole registry.
    Rollback,
    /// `PUT /v1/config`: configuration, including retention.
    ConfigWrite,
    /// `validate`, `unvalidate`, `decide` messages: remote validators.
    Validate,
    /// `GET /metrics`: a read; register gauges filtered to the scope, numbers about the whole
    /// registry only without prefix restriction (like `/v1/health`).
    Metrics,
    /// `POST /mcp` (and its other methods): the MCP endpoint. Entering it needs a consumer;
    /// each tool call is then checked as the request it stands for (its own action).
    Mcp,
}

impl Action {
    /// Every action, for exhaustive tests and documentation.
    pub const ALL: [Action; 21] = [
        Action::Health,
        Action::RegisterRead,
        Action::EntryRead,
        Action::Versions,
        Action::Diff,
        Action::State,
        Action::ConfigRead,
        Action::Watch,
        Action::Socket,
        Action::RequestCreate,
        Action::RequestOutcome,
        Action::ProviderPublish,
        Action::ProviderTake,
        Action::RequestVerdict,
        Action::EntryWrite,
        Action::Transaction,
        Action::Rollback,
        Action::ConfigWrite,
        Action::Validate,
        Action::Metrics,
        Action::Mcp,
    ];

    /// The weakest role allowed to perform it.
    pub fn min_role(self) -> Role {
        use Action::*;
        match self {
            Health | RegisterRead | EntryRead | Versions | Diff | State | ConfigRead | Watch
            | Socket | RequestCreate | RequestOutcome | Metrics | Mcp => Role::Consumer,
            ProviderPublish | ProviderTake | RequestVerdict => Role::Provider,
            EntryWrite | Transaction | Rollback | ConfigWrite | Validate => Role::Admin,
        }
    }

    /// True when it concerns the whole registry, so a principal restricted to prefixes may
    /// never perform it.
    pub fn needs_unrestricted(self) -> bool {
        matches!(
            self,
            Action::Rollback | Action::ConfigWrite | Action::Validate
        )
    }

    /// True when it changes entries (as opposed to reading them or queueing requests).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::ProviderPublish
                | Action::RequestVerdict
                | Action::EntryWrite
                | Action::Transaction
                | Action::Rollback
                | Action::ConfigWrite
        )
    }

    /// The action of a request, from its method and its path inside the registry (after
    /// `/r/{registry}`, still percent-encoded). Wrong methods on a known path map to the path's
    /// weakest action: the core answers them 405, which tells nothing. It follows the router
    /// (`Service::route`): ids, request ids and version numbers are taken from the raw path,
    /// every other path is compared once percent-decoded.
    ///
    /// ```
    /// use registry_core::auth::Action;
    /// assert_eq!(Action::of_request("PUT", "/provider"), Action::ProviderPublish);
    /// assert_eq!(Action::of_request("DELETE", "/v1/entries/a%2Fb"), Action::EntryWrite);
    /// assert_eq!(Action::of_request("POST", "/v1/requests/7/verdict"), Action::RequestVerdict);
    /// ```
    pub fn of_request(method: &str, path: &str) -> Action {
        let write = matches!(method, "PUT" | "POST" | "DELETE" | "PATCH");
        if let Some(rest) = path.strip_prefix("/v1/entries/") {
            let sub = rest.split_once('/').map_or("", |(_, s)| s);
            return if sub.is_empty() && write {
                Action::EntryWrite
            } else {
                Action::EntryRead
            };
        }
        if path.starts_with("/v1/versions/") {
            return Action::Versions;
        }
        if let Some(rest) = path.strip_prefix("/v1/requests") {
            let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
            match (rest.is_empty() || rest.starts_with('/'), parts.as_slice()) {
                (true, [_, "verdict"]) => return Action::RequestVerdict,
                (true, [""]) => return Action::RequestCreate,
                (true, [_]) => return Action::RequestOutcome,
                _ => return Action::Health,
            }
        }
        // Like the router: other paths are matched once percent-decoded (`/%761/tx` is
        // `/v1/tx`); one that does not decode exists nowhere.
        let Ok(path) = crate::api::query::percent_decode(path, false) else {
            return Action::Health;
        };
        match (path.as_str(), write) {
            ("/consumer", false) => Action::RegisterRead,
            ("/consumer", true) => Action::RequestCreate,
            ("/provider", false) => Action::ProviderTake,
            ("/provider", true) => Action::ProviderPublish,
            ("/v1/entries", _) => Action::EntryRead,
            ("/v1/versions", _) => Action::Versions,
            ("/v1/diff", _) => Action::Diff,
            ("/v1/state", _) => Action::State,
            ("/v1/tx", true) => Action::Transaction,
            ("/v1/rollback", true) => Action::Rollback,
            ("/v1/config", false) => Action::ConfigRead,
            ("/v1/config", true) => Action::ConfigWrite,
            ("/v1/watch", _) => Action::Watch,
            ("/v1/ws", _) => Action::Socket,
            ("/metrics", _) => Action::Metrics,
            ("/mcp", _) => Action::Mcp,
            _ => Action::Health,
        }
    }

    /// The action of one stream message (checked for the session's principal).
    pub fn of_message(msg: &ClientMsg) -> Action {
        match msg {
            ClientMsg::Watch { .. } | ClientMsg::Unwatch { .. } => Action::Watch,
            ClientMsg::Provide { .. } | ClientMsg::Unprovide { .. } => Action::ProviderPublish,
            ClientMsg::Request { .. } => Action::RequestCreate,
            ClientMsg::Verdict { .. } => Action::RequestVerdict,
            ClientMsg::Validate { .. }
            | ClientMsg::Unvalidate { .. }
            | ClientMsg::Decide { .. } => Action::Validate,
            ClientMsg::Ping => Action::Socket,
        }
    }
}
