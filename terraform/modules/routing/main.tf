# Turns the catalog and the traffic file into the shapes the Cloud Run and URL-map resources consume.
# Kept provider-free so the policy tests can evaluate the real expressions with `terraform test`/`apply`.
locals {
  # One entry per path a service claims. A prefix matches itself and everything below it ("/chat" and
  # "/chat/x", never "/chatter"), the same rule as the local gateway (catalog.py).
  claims = flatten([
    for name, svc in var.services : concat(
      [for p in svc.prefixes : { service = name, path = p, exact = false }],
      [for p in svc.exact : { service = name, path = p, exact = true }],
    )
  ])

  # Longest path first, so a more specific prefix wins over a shorter one (route_rules match by priority).
  claim_order = sort([for i, c in local.claims : format("%05d/%05d", 10000 - length(c.path), i)])
  ordered     = [for key in local.claim_order : local.claims[tonumber(split("/", key)[1])]]

  routes = [
    for i, c in local.ordered : {
      service        = c.service
      path           = c.path
      exact          = c.exact
      full_path      = c.path
      prefix         = c.exact ? null : "${c.path}/"
      service_weight = 100 - var.traffic[c.service].legacy_percent
      legacy_weight  = var.traffic[c.service].legacy_percent
      # Header-routed smoke-test rules come first (1000 + i); ordinary rules follow (2000 + i).
      canary_priority = 1000 + i
      priority        = 2000 + i
    }
  ]

  run_traffic = {
    for name, t in var.traffic : name => concat(
      [{ revision = t.stable_revision, percent = 100 - t.candidate_percent, tag = "stable" }],
      t.candidate_revision == null ? [] : [{ revision = t.candidate_revision, percent = t.candidate_percent, tag = "candidate" }],
    )
  }

  # URL-map `test` blocks: each claimed path, a path below each prefix, and unclaimed look-alikes that
  # must stay on legacy. Weighted routes have no single expected backend, so they are left out.
  single_backend = [for r in local.routes : r if r.legacy_weight == 0 || r.legacy_weight == 100]
  url_tests = var.legacy_fallback ? [
    for r in local.routes : { path = r.path, backend = "legacy" }
    ] : concat(
    [for r in local.single_backend : { path = r.path, backend = r.legacy_weight == 100 ? "legacy" : r.service }],
    [for r in local.single_backend : { path = "${r.path}/probe", backend = r.legacy_weight == 100 ? "legacy" : r.service } if !r.exact],
    [for r in local.routes : { path = "${r.path}-unclaimed", backend = "legacy" } if !r.exact && r.path != "/"],
  )
}
