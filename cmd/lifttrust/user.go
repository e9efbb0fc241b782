package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"lifttrust/auth"
	"lifttrust/postgres"
)

// runUser manages users:
//
//	lifttrust user add --name N --role firm --firm USCC | --role inspector [--district CODE]... | --role admin [--password P]
//	lifttrust user passwd N
//	lifttrust user disable N
//	lifttrust user list
//
// A password not given is read from stdin: from a terminal without echo,
// else its first line. Every change goes to the audit log as cli:<you>.
func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(e.stderr, "usage: lifttrust user add|passwd|disable|list ...")
		return fmt.Errorf("user: want a subcommand: add, passwd, disable or list")
	}
	sub, args := args[0], args[1:]
	fs := newFlagSet("user "+sub, e)
	var n auth.NewUser
	if sub == "add" {
		fs.StringVar(&n.Name, "name", "", "user name (3-64 of a-z 0-9 _ . -)")
		fs.Func("role", "firm, inspector or admin", func(s string) error { n.Role = auth.Role(s); return nil })
		fs.StringVar(&n.FirmUSCC, "firm", "", "role firm: the firm's unified social credit code")
		fs.Func("district", "role inspector: a district code it may see (repeat; none = the whole city)", func(s string) error {
			n.Districts = append(n.Districts, s)
			return nil
		})
		fs.StringVar(&n.DisplayName, "display", "", "display name")
		fs.StringVar(&n.Password, "password", "", "password (default: read from stdin, never echoed)")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var name string
	switch sub {
	case "add":
		if fs.NArg() != 0 {
			return fmt.Errorf("user add: unexpected %q", fs.Args())
		}
	case "passwd", "disable":
		if fs.NArg() != 1 {
			return fmt.Errorf("user %s: want one user name", sub)
		}
		name = fs.Arg(0)
	case "list":
	default:
		return fmt.Errorf("user: unknown subcommand %q (add, passwd, disable, list)", sub)
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return fmt.Errorf("user: %w (run lifttrust migrate first)", err)
	}
	store := postgres.NewAccountStore(db, 0)
	switch sub {
	case "add":
		if n.Password == "" {
			if n.Password, err = e.readPassword("password 密码 for " + n.Name); err != nil {
				return err
			}
		}
		id, err := store.CreateUser(ctx, cliActor(), n)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s (id %d, role %s) created\n", n.Name, id, n.Role)
	case "passwd":
		pw, err := e.readPassword("new password 新密码 for " + name)
		if err != nil {
			return err
		}
		if err := store.SetPassword(ctx, cliActor(), name, pw); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "password of %s changed; its sessions ended\n", name)
	case "disable":
		if err := store.DisableUser(ctx, cliActor(), name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s disabled; its sessions ended and its tokens stop working\n", name)
	case "list":
		users, err := store.Users(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tNAME\tROLE\tSCOPE\tSTATE\tCREATED")
		for _, u := range users {
			scope := u.FirmUSCC + u.Agency + strings.Join(u.Districts, ",")
			if u.Role == auth.RoleInspector && scope == "" {
				scope = "whole city"
			}
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Name, u.Role, scope, state, u.CreatedAt.UTC().Format("2006-01-02"))
		}
		return w.Flush()
	}
	return nil
}
