//! The OpenAPI 3.1 description of `/api/v1`, served at
//! `/api/v1/openapi.json`.

use serde_json::{Value, json};

fn op(summary: &str, role: Option<&str>, responses: Value) -> Value {
    let mut o = json!({ "summary": summary, "responses": responses });
    if let Some(role) = role {
        o["security"] = json!([{ "bearer": [] }]);
        o["description"] = json!(format!("Needs a token with the `{role}` role or higher."));
    }
    o
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// 200 with `schema`, and the errors every authenticated call can meet.
fn ok(schema: &str) -> Value {
    json!({
        "200": { "description": "OK", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } },
        "401": { "$ref": "#/components/responses/Unauthorized" },
        "403": { "$ref": "#/components/responses/Forbidden" },
        "503": { "$ref": "#/components/responses/Unavailable" }
    })
}

/// `ok(schema)` plus the answers of calls naming something by id.
fn ok_or(schema: &str, extra: &[(&str, &str)]) -> Value {
    let mut responses = ok(schema);
    for (code, description) in extra {
        responses[*code] = error_response(description);
    }
    responses
}

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "description": "The incident number", "schema": { "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX } }])
}

fn env_param() -> Value {
    json!([{ "name": "env", "in": "path", "required": true, "description": "An environment of the spec", "schema": { "type": "string" } }])
}

fn token_param() -> Value {
    json!({ "name": "token", "in": "path", "required": true, "description": "The heartbeat's ping token (its only credential)", "schema": { "type": "string" } })
}

pub fn document() -> Value {
    let ping_ok = json!({ "200": { "description": "Recorded", "content": { "text/plain": { "schema": { "type": "string" } } } }, "404": { "description": "Unknown token, or an action other than start, fail, log or an exit status 0-255" }, "413": { "description": "Body larger than 64 KiB" } });
    let ping = |summary: &str| json!({ "parameters": [token_param()], "get": op(summary, None, ping_ok.clone()), "post": op(summary, None, ping_ok.clone()) });
    let mut exit_code = ping("Heartbeat with an exit status (0 = success)");
    exit_code["parameters"] = json!([token_param(), { "name": "exit_code", "in": "path", "required": true, "schema": { "type": "integer", "minimum": 0, "maximum": 255 } }]);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "stagegate",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Rollout checks, live monitoring, incidents and heartbeats of the environments in stagegate.toml."
        },
        "paths": {
            "/healthz": { "get": op("200 while the server can serve and write its store", None, json!({ "200": { "description": "Healthy" }, "503": { "description": "The store is unavailable" } })) },
            "/metrics": { "get": op("Prometheus text exposition", None, json!({ "200": { "description": "Metrics", "content": { "text/plain": {} } } })) },
            "/ping/{token}": ping("Heartbeat success (Healthchecks.io compatible; `?rid=` pairs start and finish)"),
            "/ping/{token}/start": ping("Heartbeat start"),
            "/ping/{token}/fail": ping("Heartbeat failure"),
            "/ping/{token}/log": ping("Heartbeat log entry (changes no state)"),
            "/ping/{token}/{exit_code}": exit_code,
            "/api/v1/openapi.json": { "get": op("This document", None, json!({ "200": { "description": "OpenAPI 3.1" } })) },
            "/api/v1/environments": { "get": op("The check report with each environment's live state", Some("viewer"), ok("Report")) },
            "/api/v1/checks": { "get": op("Checks with status, uptime over 24 h / 7 d / 30 d and recent results", Some("viewer"), ok("Checks")) },
            "/api/v1/incidents": { "get": op("Open and recent incidents", Some("viewer"), ok("Incidents")) },
            "/api/v1/incidents/{id}/acknowledge": { "post": { "parameters": id_param(), "summary": "Acknowledge an open incident", "security": [{ "bearer": [] }], "description": "Needs the `operator` role.", "responses": ok_or("Incident", &[("400", "`id` is not an incident number"), ("404", "No such incident")]) } },
            "/api/v1/incidents/{id}/resolve": { "post": { "parameters": id_param(), "summary": "Resolve an incident (notifies)", "security": [{ "bearer": [] }], "description": "Needs the `operator` role.", "responses": ok_or("Incident", &[("400", "`id` is not an incident number"), ("404", "No such incident")]) } },
            "/api/v1/deliveries": { "get": op("The notification delivery log", Some("viewer"), ok("Deliveries")) },
            "/api/v1/promotions": { "get": op("Every promotion record", Some("viewer"), ok("Promotions")) },
            "/api/v1/environments/{env}/promotions": {
                "get": { "parameters": env_param(), "summary": "Promotion records of an environment", "security": [{ "bearer": [] }], "responses": ok_or("Promotions", &[("404", "No such environment")]) },
                "post": {
                    "parameters": env_param(),
                    "summary": "Promote: refused (409) while the plan to the target mode is blocked, else recorded",
                    "security": [{ "bearer": [] }],
                    "description": "Needs the `operator` role.",
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/PromotionRequest" } } } },
                    "responses": {
                        "201": { "description": "Recorded", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Promotion" } } } },
                        "400": error_response("Malformed request; the error names the field"),
                        "401": { "$ref": "#/components/responses/Unauthorized" },
                        "403": { "$ref": "#/components/responses/Forbidden" },
                        "404": error_response("No such environment"),
                        "409": error_response("The plan is blocked; the failing rules are listed"),
                        "413": error_response("Body larger than 64 KiB"),
                        "415": error_response("The body is not `application/json`"),
                        "503": { "$ref": "#/components/responses/Unavailable" }
                    }
                }
            },
            "/api/v1/cluster": { "get": op("The nodes sharing the store, which leads, and every node's vote on each check", Some("viewer"), ok("Cluster")) },
            "/api/v1/compliance/{framework}": {
                "get": {
                    "parameters": [{ "name": "framework", "in": "path", "required": true, "schema": { "type": "string" }, "description": "gdpr, ccpa, hipaa, pci-dss, fisma, nist-800-171, iso-27001, wcag or section-508" }],
                    "summary": "Every control of the framework with its status and evidence, per environment (as `stagegate report --format json`)",
                    "security": [{ "bearer": [] }],
                    "responses": ok_or("Compliance", &[("404", "No such framework")])
                }
            },
            "/api/v1/environments/{env}/drills": {
                "get": { "parameters": env_param(), "summary": "Restore drills run under the server, newest first, and whether one is running", "security": [{ "bearer": [] }], "responses": ok_or("Drills", &[("404", "No such environment")]) },
                "post": {
                    "parameters": env_param(),
                    "summary": "Start the environment's restore drill; its result is recorded when it finishes",
                    "security": [{ "bearer": [] }],
                    "description": "Needs the `operator` role. The drill runs in the background; poll the GET for its record.",
                    "responses": {
                        "202": { "description": "Started", "content": { "application/json": { "schema": { "type": "object", "required": ["status", "results"], "properties": { "status": { "type": "string", "enum": ["started"] }, "results": { "type": "string" } } } } } },
                        "401": { "$ref": "#/components/responses/Unauthorized" },
                        "403": { "$ref": "#/components/responses/Forbidden" },
                        "404": error_response("No such environment"),
                        "409": error_response("The environment declares no drill, or one is running"),
                        "503": { "$ref": "#/components/responses/Unavailable" }
                    }
                }
            }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "description": "A token from `stagegate token create`." } },
            "responses": {
                "Unauthorized": error_response("Missing or invalid bearer token"),
                "Forbidden": error_response("The token's role is not enough"),
                "Unavailable": error_response("The store is unavailable")
            },
            "schemas": {
                "Error": { "type": "object", "required": ["error"], "properties": { "error": { "type": "string" } } },
                "Report": { "type": "object", "required": ["version", "product", "as_of", "environments"] },
                "Result": {
                    "type": "object",
                    "required": ["id", "check", "node", "location", "started_at", "outcome", "summary", "evidence"],
                    "properties": {
                        "id": { "type": "integer" }, "check": { "type": "string", "description": "ENV/CHECK" },
                        "node": { "type": "string" }, "location": { "type": "string" },
                        "started_at": { "type": "integer", "description": "ms since the epoch" },
                        "outcome": { "enum": ["pass", "fail", "skip"] },
                        "latency_ms": { "type": ["number", "null"] }, "summary": { "type": "string" },
                        "evidence": { "type": "object", "additionalProperties": { "type": "string" }, "description": "What was measured: facts (`status`, `cert_not_after`, ...), phase timings (`time_connect`, ...), the error chain (`error`, `caused_by_1`, ...)" }
                    }
                },
                "Check": {
                    "type": "object",
                    "required": ["environment", "name", "kind", "status", "uptime", "recent"],
                    "properties": {
                        "environment": { "type": "string" }, "name": { "type": "string" }, "kind": { "type": "string" },
                        "covers": { "type": ["string", "null"] },
                        "status": { "enum": ["up", "down", "unknown"] },
                        "uptime": {
                            "type": "object",
                            "description": "Percent of passing results, null without results",
                            "properties": { "24h": { "type": ["number", "null"] }, "7d": { "type": ["number", "null"] }, "30d": { "type": ["number", "null"] } }
                        },
                        "recent": { "type": "array", "items": { "$ref": "#/components/schemas/Result" }, "description": "The last 20 results, newest first" }
                    }
                },
                "Checks": { "type": "object", "required": ["checks"], "properties": { "checks": { "type": "array", "items": { "$ref": "#/components/schemas/Check" } } } },
                "Incident": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "check": { "type": "string" }, "environment": { "type": "string" },
                        "state": { "enum": ["open", "acknowledged", "resolved"] }, "opened_at": { "type": "integer", "description": "ms since the epoch" },
                        "acknowledged_at": { "type": ["integer", "null"] }, "acknowledged_by": { "type": ["string", "null"] },
                        "resolved_at": { "type": ["integer", "null"] }, "message": { "type": "string" }
                    }
                },
                "Incidents": { "type": "object", "properties": { "incidents": { "type": "array", "items": { "$ref": "#/components/schemas/Incident" } } } },
                "Deliveries": { "type": "object", "properties": { "deliveries": { "type": "array" } } },
                "PromotionRequest": { "type": "object", "required": ["to"], "additionalProperties": false, "properties": { "to": { "enum": ["development", "staging", "soft-launch", "production"] } } },
                "Promotion": {
                    "type": "object",
                    "properties": {
                        "id": { "type": "integer" }, "environment": { "type": "string" }, "from_mode": { "type": "string" }, "to_mode": { "type": "string" },
                        "promoted_by": { "type": "string" }, "promoted_at": { "type": "integer" }, "digest": { "type": "string", "description": "SHA-256 of the plan report" }
                    }
                },
                "Promotions": { "type": "object", "properties": { "promotions": { "type": "array", "items": { "$ref": "#/components/schemas/Promotion" } } } },
                "Drill": {
                    "type": "object",
                    "required": ["id", "environment", "finished_at", "seconds", "ok", "message", "method", "node"],
                    "properties": {
                        "id": { "type": "integer" },
                        "environment": { "type": "string" },
                        "finished_at": { "type": "integer", "description": "Unix milliseconds" },
                        "seconds": { "type": "number" },
                        "ok": { "type": "boolean", "description": "Restored (and verified) within the RTO" },
                        "message": { "type": "string" },
                        "method": { "type": "string", "enum": ["command", "restic", "none"] },
                        "node": { "type": "string" }
                    }
                },
                "Cluster": {
                    "type": "object",
                    "required": ["cluster", "node", "leader", "nodes", "votes"],
                    "properties": {
                        "cluster": { "type": "boolean" }, "node": { "type": "string" }, "location": { "type": "string" }, "leader": { "type": "boolean" },
                        "nodes": { "type": "array", "items": { "type": "object", "required": ["name", "location", "last_seen", "live", "abstaining", "leader"], "properties": {
                            "name": { "type": "string" }, "location": { "type": "string" }, "last_seen": { "type": "integer" }, "live": { "type": "boolean" }, "abstaining": { "type": "boolean" }, "leader": { "type": "boolean" } } } },
                        "votes": { "type": "array", "items": { "type": "object", "required": ["check", "node", "location", "status", "at"], "properties": {
                            "check": { "type": "string" }, "node": { "type": "string" }, "location": { "type": "string" },
                            "status": { "enum": ["up", "down", "unknown"] }, "summary": { "type": "string" }, "at": { "type": "integer" } } } }
                    }
                },
                "Compliance": {
                    "type": "object",
                    "required": ["framework", "version", "environments"],
                    "properties": {
                        "framework": { "type": "string" }, "version": { "type": "string" }, "name": { "type": "string" },
                        "source": { "type": "string" }, "declared": { "type": "boolean" },
                        "environments": { "type": "array", "items": { "type": "object", "required": ["name", "controls"], "properties": {
                            "name": { "type": "string" },
                            "controls": { "type": "array", "items": { "type": "object", "required": ["id", "title", "status", "rules"], "properties": {
                                "id": { "type": "string" }, "title": { "type": "string" },
                                "status": { "enum": ["met", "not-met", "waived", "manual"] },
                                "rules": { "type": "array", "items": { "type": "string" } }
                            } } }
                        } } }
                    }
                },
                "Drills": { "type": "object", "required": ["running", "drills"], "properties": { "running": { "type": "boolean" }, "drills": { "type": "array", "items": { "$ref": "#/components/schemas/Drill" } } } }
            }
        }
    })
}
