package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"runtime"
	"text/tabwriter"
	"time"

	"golang.org/x/sync/errgroup"

	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

// runMQTTUser issues, rotates, revokes and lists broker identities:
//
//	lifttrust mqtt-user add --lift CODE | --firm USCC | --agency USCC | --service NAME
//	lifttrust mqtt-user add --all-lifts | --lifts-of USCC  --out FILE.csv
//	lifttrust mqtt-user revoke USERNAME
//	lifttrust mqtt-user list
//
// add prints exactly one line, "USERNAME PASSWORD", on stdout: the only
// time the password is ever shown (only hashes are stored). Bulk adds
// write "username,password" lines to a new file readable by its owner only.
func runMQTTUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return errors.New("mqtt-user: want add, revoke or list")
	}
	switch args[0] {
	case "add":
		return mqttUserAdd(ctx, e, args[1:])
	case "revoke":
		fs := newFlagSet("mqtt-user revoke", e)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("mqtt-user revoke: want one USERNAME")
		}
		return e.withMQTTUsers(ctx, func(s *postgres.MQTTUserStore) error {
			if err := s.Revoke(ctx, fs.Arg(0)); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "revoked %s: Mosquitto needs broker-config and SIGHUP; the embedded broker and EMQX see it within seconds\n", fs.Arg(0))
			return nil
		})
	case "list":
		fs := newFlagSet("mqtt-user list", e)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		return e.withMQTTUsers(ctx, func(s *postgres.MQTTUserStore) error {
			users, err := s.ChangedSince(ctx, time.Time{})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USERNAME\tROLE\tCREATED\tROTATED\tREVOKED")
			for _, u := range users {
				rev := "-"
				if u.Revoked() {
					rev = u.RevokedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, u.CreatedAt.UTC().Format(time.RFC3339), u.RotatedAt.UTC().Format(time.RFC3339), rev)
			}
			return tw.Flush()
		})
	}
	return fmt.Errorf("mqtt-user: unknown action %q: want add, revoke or list", args[0])
}

func (e *env) withMQTTUsers(ctx context.Context, fn func(*postgres.MQTTUserStore) error) error {
	db, closeDB, err := e.openDB(ctx, 4)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	return fn(postgres.NewMQTTUserStore(db))
}

func mqttUserAdd(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("mqtt-user add", e)
	lift := fs.String("lift", "", "an IoT lift: username = its registration code")
	firm := fs.String("firm", "", "a maintenance firm's system: username = its USCC")
	agency := fs.String("agency", "", "an inspection agency: username = its USCC")
	service := fs.String("service", "", "a LiftTrust service (ingest, simulator, ...): username = NAME")
	allLifts := fs.Bool("all-lifts", false, "every IoT-connected lift in use (writes --out)")
	liftsOf := fs.String("lifts-of", "", "every IoT-connected lift in use that firm USCC maintains (writes --out)")
	out := fs.String("out", "", "with --all-lifts or --lifts-of: the CSV file to create (username,password)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var role mqttauth.Role
	var username string
	n := 0
	for _, c := range []struct {
		v    string
		role mqttauth.Role
	}{{*lift, mqttauth.RoleLift}, {*firm, mqttauth.RoleFirm}, {*agency, mqttauth.RoleAgency}, {*service, mqttauth.RoleService}} {
		if c.v != "" {
			role, username = c.role, c.v
			n++
		}
	}
	if *allLifts || *liftsOf != "" {
		if n > 0 || (*allLifts && *liftsOf != "") {
			return errors.New("mqtt-user add: --all-lifts or --lifts-of alone")
		}
		if *out == "" {
			return errors.New("mqtt-user add: bulk issue needs --out FILE.csv")
		}
		return mqttUserBulk(ctx, e, *liftsOf, *out)
	}
	if n != 1 {
		return errors.New("mqtt-user add: want exactly one of --lift, --firm, --agency, --service")
	}
	if err := mqttauth.CheckUsername(role, username); err != nil {
		return fmt.Errorf("mqtt-user add: %w", err)
	}
	pw := mqttauth.NewPassword()
	h, err := mqttauth.HashPassword(pw)
	if err != nil {
		return err
	}
	return e.withMQTTUsers(ctx, func(s *postgres.MQTTUserStore) error {
		if err := s.Put(ctx, role, username, h); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s %s\n", username, pw)
		return nil
	})
}

// mqttUserBulk issues (or rotates) a credential for every IoT lift, or
// every one of a firm, hashing on every core and storing by COPY.
func mqttUserBulk(ctx context.Context, e *env, firm, out string) error {
	return e.withMQTTUsers(ctx, func(s *postgres.MQTTUserStore) error {
		start := time.Now()
		lifts, err := s.IoTLifts(ctx, firm)
		if err != nil {
			return err
		}
		if len(lifts) == 0 {
			return fmt.Errorf("mqtt-user add: no IoT-connected lifts in use%s", map[bool]string{true: " for firm " + firm}[firm != ""])
		}
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("mqtt-user add: %w (the file must not exist: it will hold passwords)", err)
		}
		pws := make([]string, len(lifts))
		hashes := make([]mqttauth.Hashes, len(lifts))
		g, gctx := errgroup.WithContext(ctx)
		workers := runtime.GOMAXPROCS(0)
		for w := range workers {
			g.Go(func() error {
				for i := w; i < len(lifts); i += workers {
					if i%1024 == 0 && gctx.Err() != nil {
						return gctx.Err()
					}
					pws[i] = mqttauth.NewPassword()
					h, err := mqttauth.HashPassword(pws[i])
					if err != nil {
						return err
					}
					hashes[i] = h
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			f.Close()
			os.Remove(out)
			return err
		}
		hashed := time.Since(start)
		skipped, err := s.PutMany(ctx, mqttauth.RoleLift, lifts, hashes)
		if err != nil {
			f.Close()
			os.Remove(out)
			return err
		}
		skip := map[string]bool{}
		for _, u := range skipped {
			skip[u] = true
		}
		w := csv.NewWriter(f)
		_ = w.Write([]string{"username", "password"})
		for i, l := range lifts {
			if !skip[l] {
				_ = w.Write([]string{l, pws[i]})
			}
		}
		w.Flush()
		if err := errors.Join(w.Error(), f.Close()); err != nil {
			return fmt.Errorf("write %s: %w", out, err)
		}
		fmt.Fprintf(e.stderr, "issued %d lift credentials into %s in %s (hashing %s on %d cores); %d usernames held by another role skipped\n",
			len(lifts)-len(skipped), out, time.Since(start).Round(time.Millisecond), hashed.Round(time.Millisecond), workers, len(skipped))
		return nil
	})
}
