# METADATA
# title: The checkout is monitored on its own
# description: Sales stop when the checkout fails even while the storefront answers; a storefront health check does not see it.
# custom:
#   id: ACME-CHECKOUT-WATCHED
#   severity:
#     soft-launch: recommended
#     production: required
#   remediation: Add an http check on the checkout API's health endpoint.
#   area: monitoring
#   controls:
#     - pci-dss:10.7.2:supports
package acme.checkout

import rego.v1

deny contains msg if {
	checks := object.get(object.get(input.environment, "monitoring", {}), "checks", [])
	not checkout_watched(checks)
	msg := sprintf("no http check in %s watches the checkout (a URL containing /checkout)", [input.environment.name])
}

checkout_watched(checks) if {
	some c in checks
	c.kind == "http"
	contains(c.url, "/checkout")
}
