package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"lifttrust/postgres"
)

// runToken manages API tokens for machine clients (the bulk upload):
//
//	lifttrust token add --user N [--expires 90d] [--label L]   prints the token once
//	lifttrust token revoke ID
//	lifttrust token list
//
// Only a token's SHA-256 is stored; a lost token is revoked and replaced.
func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(e.stderr, "usage: lifttrust token add|revoke|list ...")
		return fmt.Errorf("token: want a subcommand: add, revoke or list")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("token "+sub, e)
	userName := fs.String("user", "", "add: the user the token acts as")
	expires := fs.String("expires", "90d", "add: lifetime, in days (90d) or as a Go duration (720h)")
	label := fs.String("label", "", "add: what the token is for")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var ttl time.Duration
	var id int64
	switch sub {
	case "add":
		if *userName == "" || fs.NArg() != 0 {
			return fmt.Errorf("token add: want --user NAME")
		}
		var err error
		if ttl, err = parseLifetime(*expires); err != nil {
			return err
		}
	case "revoke":
		var err error
		if fs.NArg() != 1 {
			return fmt.Errorf("token revoke: want one token id (lifttrust token list)")
		}
		if id, err = strconv.ParseInt(fs.Arg(0), 10, 64); err != nil || id <= 0 {
			return fmt.Errorf("token revoke: %q is not a token id", fs.Arg(0))
		}
	case "list":
	default:
		return fmt.Errorf("token: unknown subcommand %q (add, revoke, list)", sub)
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("token: %w (run lifttrust migrate first)", err)
	}
	store := postgres.NewAccountStore(db, 0)
	switch sub {
	case "add":
		id, tok, err := store.CreateToken(ctx, cliActor(), *userName, *label, ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "token %d for %s, expires %s. It is shown this once; only its hash is kept:\n",
			id, *userName, time.Now().Add(ttl).UTC().Format(time.RFC3339))
		fmt.Fprintln(e.stdout, tok)
	case "revoke":
		if err := store.RevokeToken(ctx, cliActor(), id); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %d revoked\n", id)
	case "list":
		toks, err := store.Tokens(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tUSER\tLABEL\tSTATE\tEXPIRES\tLAST USED")
		for _, t := range toks {
			exp, used := "never", "never"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			if t.LastUsed != nil {
				used = t.LastUsed.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.User, t.Label, t.State(now), exp, used)
		}
		return w.Flush()
	}
	return nil
}

// parseLifetime reads "90d" (days) or a Go duration ("720h", "1h30m").
func parseLifetime(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("--expires %q: want 1d to 3650d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--expires %q: want days (90d) or a positive duration (720h)", s)
	}
	return d, nil
}
