// Package validation checks core.skiff.dev objects (the internal types) before
// they are stored. Every function returns all the problems it finds as a
// field.ErrorList, each with the path of the offending field, so a client sees
// one 422 listing every cause. Messages and error types follow what
// kube-apiserver returns for the same mistake on the matching core/v1 field.
package validation
