//! Who is asking: a [`Role`] and a scope (registries, entry-id prefixes), with every decision
//! the core needs about one request or one entry id.

use serde::{Deserialize, Serialize};

use super::action::Action;
use crate::registry_config::CONFIG_ID;

/// A role; each includes the one before (`consumer < provider < admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads, lists, queries, watches and history of what it may see; sends change requests and
    /// awaits their outcome.
    Consumer,
    /// Also publishes registers and answers change requests for ids in its prefixes.
    Provider,
    /// Also writes `/v1` entries and transactions in its prefixes; rollback, configuration,
    /// validators and retention when it has no prefix restriction.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::Consumer, Role::Provider, Role::Admin];

    /// The role's name as written in `REGISTRY_TOKENS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Consumer => "consumer",
            Role::Provider => "provider",
            Role::Admin => "admin",
        }
    }

    /// Parses a role name (exact, lower case).
    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

/// The authenticated caller of one request (or the owner of one stream session).
///
/// In open mode (no `REGISTRY_TOKENS`) it is [`Principal::open`]: everything is allowed and
/// versions keep the actor names the endpoints use today (`provider`, `api`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Principal {
    /// The token's name (`None` in open mode).
    name: Option<String>,
    /// The role.
    role: Role,
    /// Registry-name patterns (`*` = any run of characters); `None` = every registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registries: Option<Vec<String>>,
    /// Entry-id prefixes; `None` = every id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefixes: Option<Vec<String>>,
}

impl Default for Principal {
    /// [`Principal::open`].
    fn default() -> Self {
        Principal::open()
    }
}

impl Principal {
    /// The principal of open mode: allowed everything, no name.
    pub fn open() -> Self {
        Principal {
            name: None,
            role: Role::Admin,
            registries: None,
            prefixes: None,
        }
    }

    /// A named principal (what a token in `REGISTRY_TOKENS` grants).
    pub fn new(
        name: impl Into<String>,
        role: Role,
        registries: Option<Vec<String>>,
        prefixes: Option<Vec<String>>,
    ) -> Self {
        Principal {
            name: Some(name.into()),
            role,
            registries,
            prefixes,
        }
    }

    /// True in open mode.
    pub fn is_open(&self) -> bool {
        self.name.is_none()
    }

    /// The token's name (`None` in open mode).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The registry patterns, `None` for all.
    pub fn registries(&self) -> Option<&[String]> {
        self.registries.as_deref()
    }

    /// The id prefixes, `None` for all.
    pub fn prefixes(&self) -> Option<&[String]> {
        self.prefixes.as_deref()
    }

    /// The actor recorded on versions this principal makes: its token name, or the endpoint's
    /// own actor (`provider`, `api`) in open mode.
    ///
    /// ```
    /// use registry_core::auth::{Principal, Role};
    /// assert_eq!(Principal::open().actor("provider"), "provider");
    /// assert_eq!(Principal::new("pi", Role::Provider, None, None).actor("provider"), "pi");
    /// ```
    pub fn actor<'a>(&'a self, open_actor: &'a str) -> &'a str {
        self.name.as_deref().unwrap_or(open_actor)
    }

    /// True when the principal has no prefix restriction (every id is in scope).
    pub fn is_unrestricted(&self) -> bool {
        self.prefixes.is_none()
    }

    /// May it use this registry at all?
    pub fn may_use_registry(&self, registry: &str) -> bool {
        match &self.registries {
            None => true,
            Some(patterns) => patterns.iter().any(|p| glob_match(p, registry)),
        }
    }

    /// Is this entry id (or register name, or change request's name) in its prefixes?
    pub fn in_scope(&self, id: &str) -> bool {
        match &self.prefixes {
            None => true,
            Some(prefixes) => prefixes.iter().any(|p| id.starts_with(p.as_str())),
        }
    }

    /// May it perform `action` at all (role, and no prefix restriction where the action needs
    /// it)? The entry checks this before the request reaches the registry; per-id decisions
    /// come after ([`Principal::may`]).
    pub fn permits(&self, action: Action) -> bool {
        self.role >= action.min_role() && (!action.needs_unrestricted() || self.is_unrestricted())
    }

    /// May it perform `action` on this entry id? For reads this is the filter ("reads never
    /// leak": an id for which it is false is left out of every answer); for writes, requests
    /// and verdicts a false answer is a 403 and nothing changes.
    ///
    /// The configuration entry (`registry:config`) is written only by an unrestricted admin,
    /// whatever the path (`PUT /v1/config`, `/v1/entries`, a transaction).
    pub fn may(&self, action: Action, id: &str) -> bool {
        if !self.permits(action) || !self.in_scope(id) {
            return false;
        }
        if id == CONFIG_ID && action.writes() {
            return self.permits(Action::ConfigWrite);
        }
        true
    }

    /// May it read this entry id (filtering of every read: lists, queries, snapshots, watch
    /// backlogs and live changes, diffs, version changesets, states)?
    pub fn may_read(&self, id: &str) -> bool {
        self.may(Action::EntryRead, id)
    }

    /// May it publish this register (`PUT /provider`, `provide`)? Provider or admin, in scope.
    pub fn may_publish(&self, name: &str) -> bool {
        self.may(Action::ProviderPublish, name)
    }

    /// May it write this entry through `/v1/entries` or a transaction? Admin, in scope.
    pub fn may_write_entry(&self, id: &str) -> bool {
        self.may(Action::EntryWrite, id)
    }

    /// May it send a change request for this register? Consumer or more, in scope.
    pub fn may_request(&self, name: &str) -> bool {
        self.may(Action::RequestCreate, name)
    }

    /// May it take and answer change requests for this register? Provider or admin, in scope.
    pub fn may_answer(&self, name: &str) -> bool {
        self.may(Action::RequestVerdict, name)
    }

    /// May it roll back, change the configuration or retention, or run validators? Admin with
    /// no prefix restriction.
    pub fn may_administer(&self) -> bool {
        self.permits(Action::Rollback)
    }

    /// The principal as one header value (JSON, ASCII only: anything else is `\u` escaped), for
    /// the Worker entry to hand to the Durable Object.
    pub fn to_header(&self) -> String {
        let json = serde_json::to_string(self).expect("a principal always serializes");
        let mut out = String::with_capacity(json.len());
        for c in json.chars() {
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
        out
    }

    /// Reads a value made by [`Principal::to_header`].
    pub fn from_header(value: &str) -> Result<Principal, String> {
        serde_json::from_str(value).map_err(|e| format!("invalid principal header: {e}"))
    }
}

/// Matches `text` against `pattern`, where `*` is any run of characters (possibly empty) and
/// everything else is literal.
///
/// ```
/// use registry_core::auth::glob_match;
/// assert!(glob_match("lab-*", "lab-1"));
/// assert!(!glob_match("lab-*", "labs"));
/// assert!(glob_match("*", "home"));
/// ```
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let middle: Vec<&str> = parts.collect();
    let Some((last, middle)) = middle.split_last() else {
        // No `*`: the whole text must be the literal.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped(role: Role, registries: Option<&[&str]>, prefixes: Option<&[&str]>) -> Principal {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Principal::new("t", role, registries.map(own), prefixes.map(own))
    }

    #[test]
    fn glob_patterns() {
        assert!(glob_match("home", "home"));
        assert!(!glob_match("home", "homes"));
        assert!(!glob_match("home", "hom"));
        assert!(glob_match("lab-*", "lab-"));
        assert!(glob_match("lab-*", "lab-east-1"));
        assert!(!glob_match("lab-*", "lab"));
        assert!(!glob_match("lab-*", "xlab-1"));
        assert!(glob_match("*-prod", "eu-prod"));
        assert!(!glob_match("*-prod", "eu-prod-2"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(glob_match("a*b*c", "a-b-b-c"));
        assert!(!glob_match("a*b*c", "a-c-b"));
        // The last literal may not overlap the part a middle literal consumed.
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("*", ""));
        assert!(glob_match("**", "x"));
    }

    #[test]
    fn registry_wildcards() {
        let p = scoped(Role::Consumer, Some(&["home", "lab-*"]), None);
        assert!(p.may_use_registry("home"));
        assert!(p.may_use_registry("lab-1"));
        assert!(p.may_use_registry("lab-"));
        assert!(!p.may_use_registry("lab"));
        assert!(!p.may_use_registry("homelab"));
        assert!(!p.may_use_registry("default"));
        assert!(scoped(Role::Consumer, None, None).may_use_registry("anything"));
    }

    #[test]
    fn prefix_boundaries() {
        let p = scoped(Role::Admin, None, Some(&["kitchen."]));
        assert!(p.may_read("kitchen.temp"));
        assert!(p.may_read("kitchen."));
        assert!(!p.may_read("kitchenette"));
        assert!(!p.may_read("kitchen"));
        assert!(!p.may_read("Kitchen.temp"));
        assert!(!p.may_read("garage.door"));
        assert!(!p.may_read(""));
        assert!(p.may_write_entry("kitchen.lamp"));
        assert!(!p.may_write_entry("kitchenette.lamp"));
        // Without a separator a prefix is a plain string prefix, as in etcd and Consul.
        let loose = scoped(Role::Consumer, None, Some(&["kitchen"]));
        assert!(loose.may_read("kitchenette"));
        // Several prefixes: any one suffices.
        let two = scoped(Role::Consumer, None, Some(&["kitchen.", "garage:"]));
        assert!(two.may_read("garage:door") && two.may_read("kitchen.x"));
        assert!(!two.may_read("garage.door"));
    }

    #[test]
    fn roles_include_the_one_before() {
        assert!(Role::Consumer < Role::Provider && Role::Provider < Role::Admin);
        let c = scoped(Role::Consumer, None, None);
        let p = scoped(Role::Provider, None, None);
        let a = scoped(Role::Admin, None, None);
        for who in [&c, &p, &a] {
            assert!(who.may_read("x") && who.may_request("x"));
        }
        assert!(!c.may_publish("x") && !c.may_answer("x"));
        assert!(p.may_publish("x") && p.may_answer("x") && a.may_publish("x"));
        assert!(a.may_answer("x"));
        assert!(!c.may_write_entry("x") && !p.may_write_entry("x") && a.may_write_entry("x"));
        assert!(!c.may_administer() && !p.may_administer() && a.may_administer());
    }

    #[test]
    fn administration_needs_no_prefix_restriction() {
        let a = scoped(Role::Admin, Some(&["home"]), None);
        assert!(a.may_administer());
        let narrow = scoped(Role::Admin, None, Some(&["kitchen."]));
        assert!(!narrow.may_administer());
        assert!(!narrow.permits(Action::ConfigWrite) && !narrow.permits(Action::Rollback));
        assert!(!narrow.permits(Action::Validate));
        // A prefix covering the configuration entry does not open it to writes by another path.
        let reg = scoped(Role::Admin, None, Some(&["registry:"]));
        assert!(reg.may_read(CONFIG_ID));
        assert!(!reg.may_write_entry(CONFIG_ID));
        assert!(reg.may_write_entry("registry:other"));
        assert!(a.may_write_entry(CONFIG_ID));
    }

    #[test]
    fn open_principal_allows_everything_with_todays_actors() {
        let o = Principal::open();
        assert!(o.is_open() && o.may_administer() && o.may_use_registry("any"));
        assert!(o.may_write_entry(CONFIG_ID) && o.may_publish("x"));
        assert_eq!(o.actor("api"), "api");
        assert_eq!(scoped(Role::Consumer, None, None).actor("api"), "t");
    }

    #[test]
    fn header_round_trip_is_ascii() {
        let p = Principal::new(
            "pi",
            Role::Provider,
            Some(vec!["home".into()]),
            Some(vec!["küche.".into(), "😀:".into(), "q\"\n".into()]),
        );
        let h = p.to_header();
        assert!(h.bytes().all(|b| (0x20..0x7f).contains(&b)), "{h}");
        assert_eq!(Principal::from_header(&h).unwrap(), p);
        assert_eq!(
            Principal::from_header(&Principal::open().to_header()).unwrap(),
            Principal::open()
        );
        assert!(Principal::from_header("{\"role\":\"root\"}").is_err());
        assert!(Principal::from_header("").is_err());
    }
}
