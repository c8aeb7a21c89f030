// Package validation checks apps.skiff.dev objects, returning every problem
// with its field path, as apps/v1's validation does.
package validation
