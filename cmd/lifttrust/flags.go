package main

import "flag"

// newFlagSet makes a flag set for a subcommand that reports errors instead
// of exiting, and prints its usage to stderr.
func newFlagSet(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("lifttrust "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}
