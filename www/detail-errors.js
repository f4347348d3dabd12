// What the detail view says when the registry refuses something: one sentence per kind of
// refusal, always ending with what happened to the data (nothing).

/**
 * A message for an error from `ctx.api` (an `ApiError`) or the package (an `Error` with
 * `status` and `code`). `entryVersion`: the version the write was based on, for conflicts.
 */
export function describeError(e, entryVersion) {
  const status = e?.status;
  const code = e?.code ? ` ${e.code}` : "";
  const said = e?.message ? `: ${e.message}` : "";
  if (status === 401) return `Refused (401${code}): the token is missing or no longer valid. Nothing was changed.`;
  if (status === 403) {
    return `Refused (403${code}): your token's role or scope does not allow this${said}. Nothing was changed.`;
  }
  if (status === 409 && e.code === "version_conflict") {
    return `Refused (409${code}): the entry changed after version ${entryVersion}, the one you edited. `
      + "Nothing was written; press Revert to load the current value, then edit again.";
  }
  if (status === 409) return `Refused (409${code})${said}. Nothing was changed.`;
  if (status === 422) {
    const reasons = (e.reasons ?? []).map((r) => (r.listener ? `${r.listener}: ${r.reason}` : r.reason));
    return `Rejected (422${code})${reasons.length ? `: ${reasons.join("; ")}` : said}. Nothing was written.`;
  }
  if (status) return `Refused (${status}${code})${said}. Nothing was changed.`;
  return `Failed${said || ": no answer from the registry"}.`;
}
