package main

import (
	"context"
	"fmt"

	"lifttrust/localenv"
	"lifttrust/postgres"
)

// openDB connects to DATABASE_URL, or starts (or reuses) the private
// cluster under the data directory when it is unset, saying what it did.
// The returned close function closes the pool and stops a cluster that this
// call started.
func (e *env) openDB(ctx context.Context, maxConns int32) (*postgres.DB, func(), error) {
	url := e.cfg.DatabaseURL
	var cluster *localenv.Cluster
	if url == "" {
		var err error
		cluster, err = localenv.StartCluster(ctx, e.cfg.DataDir, e.cfg.AllowInstall, e.stdout)
		if err != nil {
			return nil, nil, fmt.Errorf("private PostgreSQL: %w", err)
		}
		url = cluster.URL("lifttrust")
		fmt.Fprintf(e.stdout, "localenv: DATABASE_URL=%s\n", url)
	}
	db, err := postgres.Open(ctx, url, maxConns)
	if err != nil {
		if cluster != nil {
			_ = cluster.Stop(context.Background())
		}
		return nil, nil, err
	}
	return db, func() {
		db.Close()
		if cluster != nil {
			if err := cluster.Stop(context.Background()); err != nil {
				e.log.Warn("stop private PostgreSQL", "err", err)
			} else if cluster != nil {
				fmt.Fprintln(e.stdout, "localenv: private PostgreSQL stopped")
			}
		}
	}, nil
}

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("migrate", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, closeDB, err := e.openDB(ctx, 2)
	if err != nil {
		return err
	}
	defer closeDB()
	from, to, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	if from == to {
		fmt.Fprintf(e.stdout, "schema is current at version %d; nothing to do\n", to)
	} else {
		fmt.Fprintf(e.stdout, "migrated schema from version %d to %d\n", from, to)
	}
	return nil
}
