// Package api owns LiftTrust's HTTP surface: the Fiber app, its middleware
// (request deadline, metrics by route template, recovery), the one error
// handler that maps error kinds to statuses, health and readiness, metrics,
// and the JSON API. Every route, JSON or HTML, is registered in routes.go so
// a reader sees the whole surface on one screen; HTML page handlers live in
// package web.
package api
