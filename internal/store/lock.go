package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// LockFile is the lock file inside the data directory. The process that
// runs the engines on a store (serve, demo, collect --once) holds an
// exclusive flock on it; the file holds "PID HOST" of the holder, so that
// a refused process can say who holds the store.
const LockFile = "dpcops.lock"

// InUseError is returned by Open with Options.Exclusive, and by
// CheckNotInUse, when another process holds the store's lock.
type InUseError struct {
	// PID and Host name the holder; PID is 0 when the lock file does not
	// say (the holder had not written it yet).
	PID  int
	Host string
	// Lock is the lock file's path.
	Lock string
}

func (e *InUseError) Error() string {
	where := "lock file " + e.Lock
	if strings.HasPrefix(e.Lock, "postgres://") {
		where = "store " + e.Lock
	}
	switch {
	case e.PID != 0:
		return fmt.Sprintf("store in use by PID %d on %s (%s)", e.PID, e.Host, where)
	case e.Host != "":
		return fmt.Sprintf("store in use by serve %s, which leads it (%s)", e.Host, where)
	}
	return fmt.Sprintf("store in use by another process (%s)", where)
}

// lockTries bounds how often an exclusive lock is tried before the store
// counts as in use: CheckNotInUse holds the lock for an instant, and a
// serve starting in that instant must not be refused for it.
const (
	lockTries = 5
	lockPause = 20 * time.Millisecond
)

// lock takes the exclusive lock of the store in dir (which exists) and
// returns the open lock file: closing it, or the process ending in any
// way, SIGKILL included, releases the lock (the kernel drops a flock with
// its last file descriptor). The file is never removed: a process that
// removed it could leave a second one locking a new file while a third
// still holds the old.
func lock(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	for try := 1; ; try++ {
		err = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || try == lockTries {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, holder(path)
			}
			return nil, fmt.Errorf("lock store %s: %w", path, err)
		}
		time.Sleep(lockPause)
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown host"
	}
	stamp := []byte(strconv.Itoa(os.Getpid()) + " " + host + "\n")
	err = f.Truncate(0)
	if err == nil {
		_, err = f.WriteAt(stamp, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock store %s: %w", path, err)
	}
	return f, nil
}

// CheckNotInUse returns an *InUseError when a process holds the store in
// dir, and nil when none does or there is no store there. It creates
// nothing, so a command can refuse early (before it listens, or before
// the demo starts its PostgreSQL) without leaving a directory behind.
// Open with Options.Exclusive is what takes the lock.
func CheckNotInUse(dir string) error {
	path := filepath.Join(dir, LockFile)
	f, err := os.Open(path)
	if err != nil {
		// No lock file: no process ever held this store. Any other
		// error is Open's to report, with its own context.
		return nil
	}
	defer f.Close()
	// A shared lock conflicts only with a holder's exclusive one; it is
	// released at once by the deferred close.
	if err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB); errors.Is(err, syscall.EWOULDBLOCK) {
		return holder(path)
	}
	return nil
}

// flock calls flock(2), again when a signal interrupts it.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

// holder reads who holds the lock. A holder writes its stamp right after
// taking the lock, so an empty or partial file is read again for a
// moment before the error says "another process".
func holder(path string) error {
	e := &InUseError{Lock: path}
	for try := 0; try < 25; try++ {
		b, err := os.ReadFile(path)
		if err == nil {
			pid, host, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
			if n, err := strconv.Atoi(pid); ok && err == nil && n > 0 && host != "" {
				e.PID, e.Host = n, host
				return e
			}
		}
		time.Sleep(lockPause)
	}
	return e
}
