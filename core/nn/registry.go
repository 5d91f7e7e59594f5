package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// Args are a constructor's arguments as decoded from JSON, with typed
// accessors whose errors name the argument and what was expected.
type Args struct {
	class string
	m     map[string]any
	err   error
}

// NewArgs wraps decoded JSON arguments for class.
func NewArgs(class string, m map[string]any) *Args {
	if m == nil {
		m = map[string]any{}
	}
	return &Args{class: class, m: m}
}

// Err is the first error any accessor met.
func (a *Args) Err() error { return a.err }

func (a *Args) fail(name, want string, v any) {
	if a.err == nil {
		a.err = fmt.Errorf("%s: argument %s must be %s, got %s", a.class, name, want, describe(v))
	}
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "None"
	case string:
		return fmt.Sprintf("%q", v)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// Has reports whether the argument was given (and not None).
func (a *Args) Has(name string) bool { return a.m[name] != nil }

// Float reads a number, def when absent.
func (a *Args) Float(name string, def float64) float64 {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) {
		a.fail(name, "a number", v)
		return def
	}
	return f
}

// Int reads an integer, def when absent.
func (a *Args) Int(name string, def int) int {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		a.fail(name, "an integer", v)
		return def
	}
	return int(f)
}

// PositiveInt reads a required integer ≥ 1.
func (a *Args) PositiveInt(name string) int {
	if !a.Has(name) {
		a.fail(name, "a positive integer", nil)
		return 1
	}
	n := a.Int(name, 1)
	if n < 1 {
		a.fail(name, "a positive integer", a.m[name])
		return 1
	}
	return n
}

// Bool reads a boolean, def when absent.
func (a *Args) Bool(name string, def bool) bool {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		a.fail(name, "True or False", v)
		return def
	}
	return b
}

// String reads a string, def when absent.
func (a *Args) String(name string, def string) string {
	v, ok := a.m[name]
	if !ok || v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		a.fail(name, "a string", v)
		return def
	}
	return s
}

// Ints reads a list of integers (nil when absent).
func (a *Args) Ints(name string) []int {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail(name, "a list of integers", v)
		return nil
	}
	out := make([]int, len(list))
	for i, x := range list {
		f, ok := x.(float64)
		if !ok || f != math.Trunc(f) {
			a.fail(name, "a list of integers", v)
			return nil
		}
		out[i] = int(f)
	}
	return out
}

// Floats reads a list of numbers (nil when absent).
func (a *Args) Floats(name string) []float64 {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		a.fail(name, "a list of numbers", v)
		return nil
	}
	out := make([]float64, len(list))
	for i, x := range list {
		f, ok := x.(float64)
		if !ok {
			a.fail(name, "a list of numbers", v)
			return nil
		}
		out[i] = f
	}
	return out
}

// List reads a JSON list (nil when absent).
func (a *Args) List(name string) []any {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		a.fail(name, "a list", v)
	}
	return l
}

// Object reads a nested JSON object (nil when absent).
func (a *Args) Object(name string) map[string]any {
	v, ok := a.m[name]
	if !ok || v == nil {
		return nil
	}
	o, ok := v.(map[string]any)
	if !ok {
		a.fail(name, "an object", v)
	}
	return o
}

// Registry maps BigDL class names to constructors of T (layers here,
// criteria in package criterion), building with typed, checked arguments.
type Registry[T any] struct {
	kind string // "layer", "criterion": for error messages
	m    map[string]func(*Args) (T, error)
}

// NewRegistry returns an empty registry for things of the given kind.
func NewRegistry[T any](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, m: map[string]func(*Args) (T, error){}}
}

// Register makes class constructible by name; each file registers its
// classes in init.
func (r *Registry[T]) Register(class string, c func(*Args) (T, error)) {
	if _, dup := r.m[class]; dup {
		panic(r.kind + " class registered twice: " + class)
	}
	r.m[class] = c
}

// New builds an instance of class from JSON-decoded arguments.
func (r *Registry[T]) New(class string, args map[string]any) (T, error) {
	var zero T
	c, ok := r.m[class]
	if !ok {
		return zero, fmt.Errorf("unknown %s class %q", r.kind, class)
	}
	a := NewArgs(class, args)
	v, err := c(a)
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		return zero, err
	}
	return v, nil
}

// Has reports whether class is registered.
func (r *Registry[T]) Has(class string) bool {
	_, ok := r.m[class]
	return ok
}

// Classes lists the registered class names, sorted.
func (r *Registry[T]) Classes() []string {
	out := make([]string, 0, len(r.m))
	for k := range r.m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Constructor builds a module from its arguments.
type Constructor func(a *Args) (Module, error)

var layers = NewRegistry[Module]("layer")

// Register makes a layer class constructible by name.
func Register(class string, c Constructor) { layers.Register(class, c) }

// New builds a layer of the named class.
func New(class string, args map[string]any) (Module, error) { return layers.New(class, args) }

// IsClass reports whether class is a registered layer class.
func IsClass(class string) bool { return layers.Has(class) }

// Classes lists the registered layer classes.
func Classes() []string { return layers.Classes() }
