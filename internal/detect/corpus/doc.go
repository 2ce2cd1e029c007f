// Package corpus holds the integration test that creates a workspace from
// every project of testdata/detect (none has a devcontainer.json), runs
// the project's own tests inside with the command Pitlane detected, and
// reports the pass rate and the time to ready per stack. It has no code of
// its own.
package corpus
