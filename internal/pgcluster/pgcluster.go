// Package pgcluster starts a throwaway PostgreSQL server from the system's
// own initdb and pg_ctl, on a free loopback port in a temporary directory,
// and removes it afterwards. Tests use it for a real database, and
// `dpcops demo` for its demo warehouse. Run as root, it runs the server as
// the postgres user, since PostgreSQL refuses to run as root.
//
// If DPCOPS_TEST_PG_DSN is set, Start uses that server instead of starting
// one, and databases are created in it.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points the harness at an existing server.
const EnvDSN = "DPCOPS_TEST_PG_DSN"

// InstallHint says how to get the server binaries.
const InstallHint = "install the PostgreSQL server: apt-get install -y postgresql (Debian/Ubuntu), dnf install postgresql-server (Fedora), brew install postgresql (macOS); or set " + EnvDSN + " to a server's DSN"

// ErrNoBinaries means initdb and pg_ctl were not found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found")

// Cluster is a running PostgreSQL server.
type Cluster struct {
	// DSN connects to the postgres database as the superuser.
	DSN  string
	Port int
	// external is true for a server named by EnvDSN.
	external bool
	dir      string
	bin      string
	cred     *syscall.Credential
	logger   *slog.Logger
}

// Options tune Start.
type Options struct {
	Logger *slog.Logger
	// Settings are extra postgresql.conf lines, name → value.
	Settings map[string]string
	// Durable keeps fsync on (the demo); tests run faster without it.
	Durable bool
}

// FindBinaries returns the directory holding initdb and pg_ctl: from PATH,
// else the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w; %s", ErrNoBinaries, InstallHint)
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start starts a cluster, or attaches to the server EnvDSN names.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		c := &Cluster{DSN: dsn, external: true, logger: logger}
		if err := c.ping(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", EnvDSN, err)
		}
		return c, nil
	}
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, logger: logger}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	// A short path: the server's Unix socket path must fit in 107 bytes.
	c.dir, err = os.MkdirTemp("", "dpcops-pg-")
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	if err := c.chown(c.dir); err != nil {
		c.remove()
		return nil, err
	}
	if err := c.initdb(ctx); err != nil {
		c.remove()
		return nil, err
	}
	// Another process may take the free port before the server binds it;
	// try a few.
	for attempt := 0; ; attempt++ {
		err = c.start(ctx, opts)
		if err == nil {
			return c, nil
		}
		if attempt == 2 || ctx.Err() != nil {
			c.remove()
			return nil, err
		}
		logger.Debug("postgres did not start, retrying on another port", "err", err)
	}
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("running as root, the test server must run as the postgres user, which does not exist; install the postgresql package (it creates the user) or run as a normal user")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return nil
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

// LogDir is the directory of the server's jsonlog files.
func (c *Cluster) LogDir() string {
	if c.dir == "" {
		return ""
	}
	return filepath.Join(c.dataDir(), "log")
}

// LogFile is the server's jsonlog file.
func (c *Cluster) LogFile() string {
	if c.dir == "" {
		return ""
	}
	return filepath.Join(c.LogDir(), "postgresql.json")
}

func (c *Cluster) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

func (c *Cluster) run(ctx context.Context, name string, args ...string) error {
	cmd := c.command(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(out.String()))
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	return c.run(ctx, "initdb", "-D", c.dataDir(), "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync")
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	port, err := freePort()
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	settings := map[string]string{
		"listen_addresses":        "'127.0.0.1'",
		"port":                    strconv.Itoa(port),
		"unix_socket_directories": "'" + c.dir + "'",
		"logging_collector":       "on",
		"log_destination":         "'jsonlog'",
		"log_directory":           "'log'",
		"log_filename":            "'postgresql'",
		"log_rotation_age":        "0",
		"log_rotation_size":       "0",
		"log_min_error_statement": "error",
		"max_connections":         "100",
		"shared_buffers":          "32MB",
		"track_counts":            "on",
		"timezone":                "'UTC'",
	}
	if !opts.Durable {
		settings["fsync"] = "off"
		settings["synchronous_commit"] = "off"
		settings["full_page_writes"] = "off"
	}
	for k, v := range opts.Settings {
		settings[k] = v
	}
	var conf strings.Builder
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		fmt.Fprintf(&conf, "%s = %s\n", k, settings[k])
	}
	if err := os.WriteFile(filepath.Join(c.dataDir(), "postgresql.auto.conf"), []byte(conf.String()), 0o600); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	if err := c.chown(filepath.Join(c.dataDir(), "postgresql.auto.conf")); err != nil {
		return err
	}
	startLog := filepath.Join(c.dir, "start.log")
	if err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", startLog); err != nil {
		b, _ := os.ReadFile(startLog)
		return fmt.Errorf("start postgres: %w %s", err, strings.TrimSpace(string(b)))
	}
	c.Port = port
	c.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	c.logger.Debug("postgres started", "port", port, "dir", c.dir)
	if err := c.ping(ctx); err != nil {
		// Started but not answering: stop it, or a retry or the removal of
		// its directory would leave the server running.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		if serr := c.run(sctx, "pg_ctl", "stop", "-w", "-m", "immediate", "-D", c.dataDir()); serr != nil {
			c.logger.Warn("stop the server that did not answer", "err", serr)
		}
		return err
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.Ping(ctx)
}

// External reports whether the cluster is a server the harness did not
// start (EnvDSN).
func (c *Cluster) External() bool { return c.external }

// CreateDatabase creates a database and returns its DSN.
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	cfg, err := pgx.ParseConfig(c.DSN)
	if err != nil {
		return "", err
	}
	return replaceDatabase(c.DSN, cfg.Database, name), nil
}

// DropDatabase drops a database, ending its sessions first.
func (c *Cluster) DropDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSN)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// replaceDatabase swaps the database of a URL-form DSN.
func replaceDatabase(dsn, from, to string) string {
	if i := strings.Index(dsn, "/"+from+"?"); i >= 0 {
		return dsn[:i+1] + to + dsn[i+1+len(from):]
	}
	if strings.HasSuffix(dsn, "/"+from) {
		return strings.TrimSuffix(dsn, from) + to
	}
	return dsn + " dbname=" + to
}

// Restart stops and starts the server on the same port, as a warehouse
// restart does.
func (c *Cluster) Restart(ctx context.Context) error {
	if c.External() {
		return errors.New("cannot restart a server the harness did not start")
	}
	return c.run(ctx, "pg_ctl", "restart", "-w", "-t", "60", "-m", "fast", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "start.log"))
}

// Pause stops the server but keeps its files, as a warehouse outage does;
// Resume starts it again on the same port.
func (c *Cluster) Pause(ctx context.Context) error {
	if c.External() {
		return errors.New("cannot pause a server the harness did not start")
	}
	return c.run(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir())
}

// Resume starts a paused server.
func (c *Cluster) Resume(ctx context.Context) error {
	if c.External() {
		return errors.New("cannot resume a server the harness did not start")
	}
	return c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.dataDir(), "-l", filepath.Join(c.dir, "start.log"))
}

// Stop stops the server and removes its directory. It is safe to call
// more than once.
func (c *Cluster) Stop() error {
	if c.external || c.dir == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := c.run(ctx, "pg_ctl", "stop", "-w", "-m", "fast", "-D", c.dataDir())
	c.remove()
	return err
}

func (c *Cluster) remove() {
	if c.dir != "" {
		os.RemoveAll(c.dir)
		c.dir = ""
	}
}
