package mqttauth

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Hash costs. The passwords are 192 random bits generated here, never
// chosen by a person: no dictionary or brute force reaches them, whatever
// the hash costs. A hash's work factor protects guessable passwords, so
// here it buys nothing and costs a great deal: at bcrypt's default cost
// (10, 140 ms on this machine) issuing a city's 305,000 lifts would take
// 12 CPU-hours, and a broker restart with every device reconnecting would
// spend as long verifying. The minimum cost keeps bcrypt's format (which
// EMQX reads natively); Mosquitto's file takes PBKDF2-SHA512 at its own
// default iteration count.
const (
	BcryptCost          = bcrypt.MinCost
	MosquittoIterations = 101 // mosquitto_passwd's default
	mosquittoSaltLen    = 12  // as mosquitto_passwd
	passwordBytes       = 24  // 192 bits
)

// NewPassword returns a random password: 32 characters of base64url, safe
// in a URL's user info, a CSV field and a shell argument.
func NewPassword() string {
	b := make([]byte, passwordBytes)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hashes are one password in the two stored formats.
type Hashes struct {
	Bcrypt    string // $2a$...
	Mosquitto string // $7$iterations$salt$hash, mosquitto_passwd's PBKDF2-SHA512
}

// HashPassword computes both stored hashes of password.
func HashPassword(password string) (Hashes, error) {
	bc, err := bcrypt.GenerateFromPassword([]byte(password), BcryptCost)
	if err != nil {
		return Hashes{}, fmt.Errorf("bcrypt: %w", err)
	}
	salt := make([]byte, mosquittoSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return Hashes{}, fmt.Errorf("salt: %w", err)
	}
	mq, err := mosquittoHash(password, salt, MosquittoIterations)
	if err != nil {
		return Hashes{}, err
	}
	return Hashes{Bcrypt: string(bc), Mosquitto: mq}, nil
}

func mosquittoHash(password string, salt []byte, iterations int) (string, error) {
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, sha512.Size)
	if err != nil {
		return "", fmt.Errorf("pbkdf2: %w", err)
	}
	return fmt.Sprintf("$7$%d$%s$%s", iterations, base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(key)), nil
}

// CheckBcrypt reports whether password matches a bcrypt hash.
func CheckBcrypt(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// CheckMosquitto reports whether password matches a $7$ hash, as
// Mosquitto would check it (used by tests and to verify the format).
func CheckMosquitto(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "7" {
		return false, errors.New("not a $7$ hash")
	}
	iter, err := strconv.Atoi(parts[2])
	if err != nil || iter < 1 {
		return false, errors.New("bad iteration count")
	}
	salt, err := base64.StdEncoding.DecodeString(parts[3])
	if err != nil {
		return false, fmt.Errorf("salt: %w", err)
	}
	want, err := mosquittoHash(password, salt, iter)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(hash)) == 1, nil
}
