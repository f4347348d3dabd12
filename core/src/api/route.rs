//! Which registry a request addresses: `/r/{registry}/…`, or the registry `default` for bare
//! paths. Shared by the worker (to pick the Durable Object) and the native harness.

use super::error::ApiError;

/// The registry that bare paths address.
pub const DEFAULT_REGISTRY: &str = "default";

/// Longest registry name.
pub const MAX_REGISTRY_NAME: usize = 64;

/// Splits a request path into the registry name and the path inside that registry.
///
/// ```
/// use registry_core::api::split_registry;
/// assert_eq!(split_registry("/consumer").unwrap(), ("default".to_string(), "/consumer".to_string()));
/// assert_eq!(split_registry("/r/home/provider").unwrap(), ("home".to_string(), "/provider".to_string()));
/// assert_eq!(split_registry("/r/bad name/x").unwrap_err().status, 400);
/// ```
pub fn split_registry(path: &str) -> Result<(String, String), ApiError> {
    let Some(rest) = path.strip_prefix("/r/") else {
        return Ok((DEFAULT_REGISTRY.to_string(), path.to_string()));
    };
    let (name, inner) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let name = super::query::percent_decode(name, false).map_err(|e| {
        ApiError::new(
            400,
            "invalid_registry",
            format!("invalid registry name: {e}"),
        )
    })?;
    validate_registry_name(&name)?;
    Ok((name, inner.to_string()))
}

/// Registry names are 1–64 characters of `A-Z a-z 0-9 . _ -`.
pub fn validate_registry_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_REGISTRY_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            400,
            "invalid_registry",
            format!(
                "invalid registry name {name:?}: use 1-{MAX_REGISTRY_NAME} characters of A-Z a-z 0-9 . _ -"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_validates() {
        assert_eq!(
            split_registry("/r/a-b.c_1").unwrap(),
            ("a-b.c_1".into(), "/".into())
        );
        assert_eq!(split_registry("/").unwrap(), ("default".into(), "/".into()));
        assert!(split_registry("/r//consumer").is_err());
        assert!(split_registry(&format!("/r/{}/consumer", "x".repeat(65))).is_err());
        assert_eq!(split_registry("/r/h%6Fme/consumer").unwrap().0, "home");
    }
}
