package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dpc-learning/dpcops/internal/spec"
)

// TokenFile is the file in --data that holds the token serve made when
// the spec sets no serve.token.
const TokenFile = "token"

// actionToken returns the token that authorises actions and, when serve
// made it, the file it lives in. Actions always need a token: a spec
// without serve.token gets one made at first start, 256 random bits kept
// in DIR/token with mode 0600 and reused after, as Jupyter does.
func actionToken(s *spec.Spec, dir string) (token, file string, err error) {
	if s.Serve.Token.IsSet() {
		return s.Serve.Token.Reveal(), "", nil
	}
	file, err = filepath.Abs(filepath.Join(dir, TokenFile))
	if err != nil {
		return "", "", err
	}
	// With a PostgreSQL store --data holds only this file.
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", "", fmt.Errorf("make the token file: %w", err)
	}
	token, err = readToken(file)
	if errors.Is(err, fs.ErrNotExist) {
		token, err = makeToken(file)
	}
	return token, file, err
}

// readToken reads a token file, refusing one that others may read: the
// token is what stands between a local user and the actions.
func readToken(file string) (string, error) {
	fi, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("token file %s is not a regular file", file)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("token file %s may be read by others (mode %04o): chmod 600 it, or delete it to have a new one made", file, fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(b))
	if len(token) < 16 {
		return "", fmt.Errorf("token file %s holds no token of at least 16 characters: delete it to have a new one made", file)
	}
	return token, nil
}

// makeToken writes a new token, whole or not at all: it goes to a
// temporary file first, synced, then is linked into place. The link fails
// if the file exists, so two serves starting at once agree (the loser
// reads the winner's token), and a crash never leaves an empty token file
// behind.
func makeToken(file string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	tmp, err := os.CreateTemp(filepath.Dir(file), ".token-*")
	if err != nil {
		return "", fmt.Errorf("make the token file: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; say so for the reader.
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", fmt.Errorf("make the token file: %w", err)
	}
	if _, err := tmp.WriteString(token + "\n"); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write the token file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write the token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write the token file: %w", err)
	}
	if err := os.Link(tmp.Name(), file); errors.Is(err, fs.ErrExist) {
		return readToken(file)
	} else if err != nil {
		return "", fmt.Errorf("make the token file: %w", err)
	}
	return token, nil
}
