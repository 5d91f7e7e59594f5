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

// Constructor builds a module from its arguments.
type Constructor func(a *Args) (Module, error)

var registry = map[string]Constructor{}

// Register makes a module class constructible by name. Each layer file
// registers its classes in init.
func Register(class string, c Constructor) {
	if _, dup := registry[class]; dup {
		panic("nn: class registered twice: " + class)
	}
	registry[class] = c
}

// New builds a module of the named class.
func New(class string, args map[string]any) (Module, error) {
	c, ok := registry[class]
	if !ok {
		return nil, fmt.Errorf("unknown layer class %q", class)
	}
	a := NewArgs(class, args)
	m, err := c(a)
	if err == nil {
		err = a.Err()
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// IsClass reports whether class is registered.
func IsClass(class string) bool {
	_, ok := registry[class]
	return ok
}

// Classes lists the registered class names.
func Classes() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
