//! Operating a registry (issue 15): `GET /metrics` in the Prometheus text format (checked by a
//! strict parser of the 0.0.4 format), and `POST /mcp`, the MCP server whose tools are the
//! API's own requests, with the caller's scope.

mod ops {
    mod mcp;
    mod mcp_scope;
    mod metrics;
    mod prom;
}
