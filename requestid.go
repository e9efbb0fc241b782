package lifttrust

import (
	"context"
	"log/slog"
)

type requestIDKey struct{}

// IsRequestIDKey reports whether key is the context key RequestID looks
// up. The HTTP server's request context keeps its request's id itself
// (the X-Request-ID it echoes) and answers Value for this key, rather
// than wrapping a context.WithValue, which would cost two allocations on
// every request.
func IsRequestIDKey(key any) bool {
	_, ok := key.(requestIDKey)
	return ok
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// LogHandler wraps the process's slog handler: a record logged with a
// context that carries a request id (log.InfoContext(ctx, ...)) gets the
// attribute request_id, wherever in the code it is written.
type LogHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h LogHandler) WithGroup(name string) slog.Handler {
	return LogHandler{h.Handler.WithGroup(name)}
}
