package app

// DefaultSecurePort is kube-controller-manager's: /healthz, /livez,
// /readyz, /metrics and the profiles over HTTPS (pkg/serving).
const DefaultSecurePort = 10257
