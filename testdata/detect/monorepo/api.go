// Package mono is the API half of a repository with a web front end.
package mono

// Health is what the API's health check answers.
func Health() string { return "ok" }
